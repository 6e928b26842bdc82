//! The method options on the command line: one flag per option of
//! `pami::options::all_options` (every method's and the common ones), collected
//! into the same `Values` the server fills from its query, so both front
//! ends accept exactly the same options.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use pami::method::registry::{self, Kind, Values};
use pami::options;

/// `--radius 20 --stride 8 --baseline zero …`, as given.
#[derive(Clone, Debug, Default)]
pub struct MethodFlags {
    pub values: Values,
}

impl FromArgMatches for MethodFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(MethodFlags { values: collect(matches, &[]) })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for MethodFlags {
    fn augment_args(command: Command) -> Command {
        augment(command, &[])
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

/// The method flags of `pami compare`, whose own `--method` names the
/// attribution method and whose `--seed` seeds the clustering: integrated
/// gradients' quadrature is `--quadrature` there, and the compare command
/// passes its seed on to seeded methods itself.
#[derive(Clone, Debug, Default)]
pub struct CompareMethodFlags {
    pub values: Values,
}

const COMPARE_OWN: &[&str] = &["method", "seed"];

impl FromArgMatches for CompareMethodFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut values = collect(matches, COMPARE_OWN);
        if let Some(rule) = matches.get_one::<String>("quadrature") {
            values.push("method", rule.clone());
        }
        Ok(CompareMethodFlags { values })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for CompareMethodFlags {
    fn augment_args(command: Command) -> Command {
        let quadrature = options::all_options().into_iter().find(|s| s.name == "method").expect("integrated gradients' `method` option");
        let Kind::Choice(words) = quadrature.kind else { unreachable!("`method` is a choice") };
        let command = command.arg(
            Arg::new("quadrature").long("quadrature").value_name("RULE").help(quadrature.help).value_parser(PossibleValuesParser::new(words.iter().copied())),
        );
        augment(command, COMPARE_OWN)
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

/// The given method options, but those named in `skip`.
fn collect(matches: &ArgMatches, skip: &[&str]) -> Values {
    let mut values = Values::default();
    for spec in options::all_options().into_iter().filter(|s| !skip.contains(&s.name)) {
        if spec.kind == Kind::Flag {
            if matches.get_flag(spec.name) {
                values.push(spec.name, "true");
            }
        } else if let Some(given) = matches.get_many::<String>(spec.name) {
            for value in given {
                values.push(spec.name, value.clone());
            }
        }
    }
    values
}

/// One flag per method option, but those named in `skip`.
fn augment(mut command: Command, skip: &[&str]) -> Command {
    for spec in options::all_options().into_iter().filter(|s| !skip.contains(&s.name)) {
        // clap keeps names as &'static str; these few are built once per process.
        let long: &'static str = Box::leak(spec.name.replace('_', "-").into_boxed_str());
        let value: &'static str = Box::leak(spec.name.to_uppercase().into_boxed_str());
        let arg = Arg::new(spec.name).long(long).value_name(value).help(spec.help);
        let many = if spec.list { ArgAction::Append } else { ArgAction::Set };
        command = command.arg(match spec.kind {
            Kind::Flag => arg.action(ArgAction::SetTrue),
            Kind::Choice(words) => arg.action(many).value_parser(PossibleValuesParser::new(words.iter().copied())),
            Kind::Int | Kind::Float | Kind::Text => arg.action(many).allow_negative_numbers(true),
        });
    }
    command
}

/// The `--strategy` values, for clap's check and help.
pub fn strategies() -> PossibleValuesParser {
    PossibleValuesParser::new(registry::entries().map(|e| clap::builder::PossibleValue::new(e.strategy).help(e.help)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use pami::Targets;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        method: MethodFlags,
    }

    /// A value each option accepts.
    fn sample(spec: &registry::OptionSpec) -> &'static str {
        match (spec.kind, spec.name) {
            (Kind::Flag, _) => "true",
            (Kind::Int, _) => "3",
            (Kind::Float, _) => "0.25",
            (Kind::Choice(words), _) => words[words.len() - 1],
            (Kind::Text, "blur") => "gaussian:9:3",
            (Kind::Text, "segmentation") => "felzenszwalb:100,min_size=50",
            (Kind::Text, other) => panic!("give the new text option `{other}` a sample value here"),
        }
    }

    #[test]
    fn every_method_option_is_accepted_alike_by_the_command_line_and_the_server() {
        let mut checked = 0;
        let owners = registry::entries().into_iter().flat_map(|e| e.options.iter().map(move |o| (e.strategy, o)));
        for (strategy, spec) in options::COMMON.iter().map(|o| ("window", o)).chain(owners) {
            let value = sample(spec);
            let flag = format!("--{}", spec.name.replace('_', "-"));
            let argv: Vec<&str> = if spec.kind == Kind::Flag { vec!["pami", &flag] } else { vec!["pami", &flag, value] };
            let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{flag}: {e}")).method.values;
            let query = pami::serve::parse_query(&[("strategy".into(), strategy.into()), (spec.name.into(), value.into())])
                .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert_eq!(query.strategy, strategy);
            assert_eq!(cli, query.options, "{}", spec.name);
            assert!(cli.get(spec.name).is_some(), "{} was dropped", spec.name);
            let a = options::config(strategy, &cli, Targets::TopK(1), 16).unwrap_or_else(|e| panic!("{strategy} --{}: {e}", spec.name));
            let b = options::config(strategy, &query.options, Targets::TopK(1), 16).unwrap();
            assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::to_value(&b).unwrap());
            // The option changed the configuration from the method's defaults.
            let default = options::config(strategy, &Values::default(), Targets::TopK(1), 16).unwrap();
            assert_ne!(serde_json::to_value(&a).unwrap(), serde_json::to_value(&default).unwrap(), "--{} changed nothing", spec.name);
            checked += 1;
        }
        assert!(checked >= 16, "{checked} options");
        // A name no method knows is refused by both.
        assert!(Cli::try_parse_from(["pami", "--no-such-option", "1"]).is_err());
        assert!(pami::serve::parse_query(&[("no_such_option".into(), "1".into())]).is_err());
    }
}
