//! Parse, run, map the error to an exit code — nothing else.

use clap::{CommandFactory, Parser};
use gitops::cli::{commands, Cli};
use gitops::{error, interrupt, limits, ui};

fn main() {
    // `COMPLETE=bash gitops` prints the dynamic completion script; with the shell's
    // words it completes them (environment names included) and exits.
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    // Usage errors exit 2 from clap itself.
    // `--color` decides clap's help and errors too.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    ui::ColorChoice::from_args(&args).apply_to_clap();
    let cli = Cli::parse_from(args);
    let ui = ui::Ui::new(cli.global.color);
    if let Err(err) = interrupt::install(ui::restore_terminal) {
        ui.warn(&format!("{err:#}: Ctrl-C may leave the cursor hidden"));
    }
    let run = limits::check_env()
        .map_err(anyhow::Error::from)
        .and_then(|()| commands::run(cli, &ui));
    let code = match run {
        Ok(()) => error::exit::OK,
        Err(err) => {
            let code = error::exit_code(&err);
            if code == error::exit::INTERRUPTED {
                interrupt::stop();
            }
            if error::is_reported(&err) {
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
