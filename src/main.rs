//! Parse, run, map the error to an exit code — nothing else.

use clap::{CommandFactory, Parser};
use gitops::{cli::Cli, commands, error, ui::Ui};

fn main() {
    // `COMPLETE=bash gitops` prints the dynamic completion script; with the shell's
    // words it completes them (environment names included) and exits.
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let cli = Cli::parse();
    let ui = Ui::new(cli.global.color);
    let code = match commands::run(cli, &ui) {
        Ok(()) => error::exit::OK,
        Err(err) => {
            let code = error::exit_code(&err);
            if err.downcast_ref::<error::Exit>().is_none() {
                let mut chain = err.chain().map(|c| c.to_string());
                let message = chain.next().unwrap_or_default();
                let causes: Vec<String> = chain.filter(|c| *c != message).collect();
                ui.error(&message, &causes, error::hint(&err));
            }
            code
        }
    };
    std::process::exit(code);
}
