//! What pami asks of the device, counted: kernel dispatches (by kernel),
//! blocking reads of device data by the host (by what needed them), and
//! device syncs. (A dispatch's parameter block travels in its launch's info
//! uniform, written with the launch: no submit of its own.)
//! Only pami's own kernels and reads are counted, not Burn's tensor ops, and
//! on the CPU path (flex) no kernel is dispatched.
//!
//! The counts are process-wide: read them around a call with [`measure`],
//! which holds a lock so that two measured calls do not mix their counts
//! (work outside `measure` on other threads still adds to them).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// Counts since the process started (or between two snapshots).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Kernel dispatches by kernel name (`felzenszwalb_merge`, `compose`, …).
    pub dispatches: BTreeMap<&'static str, u64>,
    /// Blocking reads of device data by what read it (`download`,
    /// `segment counts`, `small segments`, `watershed changes`, `curves`).
    pub readbacks: BTreeMap<&'static str, u64>,
    /// Device syncs (the explanation's stage timings).
    pub syncs: u64,
}

impl Counts {
    pub fn dispatch_total(&self) -> u64 {
        self.dispatches.values().sum()
    }

    pub fn readback_total(&self) -> u64 {
        self.readbacks.values().sum()
    }

    /// `self − earlier`, entry by entry.
    fn since(&self, earlier: &Counts) -> Counts {
        let minus = |now: &BTreeMap<&'static str, u64>, then: &BTreeMap<&'static str, u64>| {
            now.iter().map(|(k, v)| (*k, v - then.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
        };
        Counts {
            dispatches: minus(&self.dispatches, &earlier.dispatches),
            readbacks: minus(&self.readbacks, &earlier.readbacks),
            syncs: self.syncs - earlier.syncs,
        }
    }
}

static COUNTS: Mutex<Counts> = Mutex::new(Counts { dispatches: BTreeMap::new(), readbacks: BTreeMap::new(), syncs: 0 });
static MEASURING: Mutex<()> = Mutex::new(());

fn with(f: impl FnOnce(&mut Counts)) {
    f(&mut COUNTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
}

/// The counts so far.
pub fn snapshot() -> Counts {
    COUNTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

/// Runs `f` and returns what it asked of the device.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Counts) {
    let _alone = MEASURING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = snapshot();
    let out = f();
    (out, snapshot().since(&before))
}

pub(crate) fn dispatched(kernel: &'static str) {
    with(|c| *c.dispatches.entry(kernel).or_default() += 1);
}

pub(crate) fn read(what: &'static str) {
    with(|c| *c.readbacks.entry(what).or_default() += 1);
}

pub(crate) fn synced() {
    with(|c| c.syncs += 1);
}
