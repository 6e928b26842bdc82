// A dispatch's steps of a kernel that loops over steps with barriers (one
// workgroup per item, `launch::workgroups`): invocation 0 reads them from the
// params and workgroupUniformLoad hands them to every invocation, so each
// barrier in the step loop sits in uniform control flow. `live` is 0 for a
// workgroup past the last item (it returns before any barrier).
struct Steps {
    live: u32,
    first: u32,
    last: u32,
}

var<workgroup> planned_steps: Steps;

fn plan_steps(invocation: u32, live: bool, first: u32, count: u32) -> Steps {
    if invocation == 0u {
        planned_steps = Steps(select(0u, 1u, live), first, first + count);
    }
    return workgroupUniformLoad(&planned_steps);
}
