//! The terminal: the only module that prints, prompts or styles.
//!
//! Data goes to stdout, messages and progress to stderr. Colour is decided as
//! clap decides it for its own help and errors (`anstream`): with `--color
//! auto`, `NO_COLOR` turns it off, `CLICOLOR_FORCE` on, `CLICOLOR=0` off, else a
//! terminal that is not `TERM=dumb` gets it; `--color always|never` decides
//! for both. Spinners and prompts exist only on a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use console::Style;

use crate::error::{Interrupted, StdoutClosed};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// The semantic styles used by renderers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Bold,
    Dim,
    Good,
    Warn,
    Bad,
    Id,
}

pub struct Ui {
    color_out: bool,
    color_err: bool,
    err_is_term: bool,
    in_is_term: bool,
}

/// anstream's answer for `stream` under `--color auto`.
fn auto_choice<S: anstream::stream::RawStream>(stream: &S) -> anstream::ColorChoice {
    let previous = anstream::ColorChoice::global();
    anstream::ColorChoice::write_global(anstream::ColorChoice::Auto);
    let choice = anstream::AutoStream::choice(stream);
    anstream::ColorChoice::write_global(previous);
    choice
}

impl ColorChoice {
    /// What `--color` says, from the command line before clap reads it (for
    /// clap's own help and errors): the last `--color WHEN` or `--color=WHEN`.
    pub fn from_args(args: &[std::ffi::OsString]) -> ColorChoice {
        let mut choice = ColorChoice::Auto;
        let mut args = args.iter().map(|a| a.to_string_lossy());
        while let Some(arg) = args.next() {
            if arg == "--" {
                break;
            }
            let value = match arg.strip_prefix("--color") {
                Some("") => args.next().map(|v| v.into_owned()),
                Some(rest) => rest.strip_prefix('=').map(str::to_owned),
                None => None,
            };
            match value.as_deref() {
                Some("always") => choice = ColorChoice::Always,
                Some("never") => choice = ColorChoice::Never,
                Some("auto") => choice = ColorChoice::Auto,
                _ => {}
            }
        }
        choice
    }

    /// Makes this choice clap's too (anstream's process-wide choice).
    pub fn apply_to_clap(self) {
        anstream::ColorChoice::write_global(match self {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        });
    }
}

impl Ui {
    pub fn new(choice: ColorChoice) -> Ui {
        let err_term = std::io::stderr().is_terminal();
        let decide = |stream: anstream::ColorChoice| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stream != anstream::ColorChoice::Never,
        };
        Ui {
            color_out: decide(auto_choice(&std::io::stdout())),
            color_err: decide(auto_choice(&std::io::stderr())),
            err_is_term: err_term,
            in_is_term: std::io::stdin().is_terminal(),
        }
    }

    /// No colour, no terminal: what a pipe gets (and what snapshot tests render).
    pub fn plain() -> Ui {
        Ui {
            color_out: false,
            color_err: false,
            err_is_term: false,
            in_is_term: false,
        }
    }

    /// Whether a person can answer a prompt.
    pub fn interactive(&self) -> bool {
        self.in_is_term && self.err_is_term
    }

    fn style(tone: Tone, on: bool) -> Style {
        let s = Style::new().force_styling(on);
        match tone {
            Tone::Plain => s,
            Tone::Bold => s.bold(),
            Tone::Dim => s.dim(),
            Tone::Good => s.green(),
            Tone::Warn => s.yellow(),
            Tone::Bad => s.red().bold(),
            Tone::Id => s.yellow(),
        }
    }

    /// Styles text for stdout.
    pub fn paint(&self, tone: Tone, text: &str) -> String {
        Self::style(tone, self.color_out).apply_to(text).to_string()
    }

    fn paint_err(&self, tone: Tone, text: &str) -> String {
        Self::style(tone, self.color_err).apply_to(text).to_string()
    }

    /// Writes data to stdout. A closed pipe (`gitops status | head`) stops the
    /// command with [`StdoutClosed`], which `main` turns into a quiet exit 0.
    pub fn out(&self, text: &str) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe => anyhow::Error::new(StdoutClosed),
                _ => anyhow::Error::new(e).context("writing to standard output"),
            })
    }

    /// Prints a JSON document on stdout.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(value)?;
        text.push('\n');
        self.out(&text)
    }

    /// A message on stderr.
    pub fn note(&self, text: &str) {
        eprintln!("{text}");
    }

    /// A warning on stderr.
    pub fn warn(&self, text: &str) {
        eprintln!("{} {text}", self.paint_err(Tone::Warn, "warning:"));
    }

    /// An error: one line saying what failed, its causes under it, and the hint.
    pub fn error(&self, message: &str, causes: &[String], hint: Option<&str>) {
        eprintln!("{} {message}", self.paint_err(Tone::Bad, "error:"));
        for cause in causes {
            eprintln!("  {} {cause}", self.paint_err(Tone::Dim, "cause:"));
        }
        if let Some(hint) = hint {
            eprintln!("  {} {hint}", self.paint_err(Tone::Good, "hint:"));
        }
    }

    /// A spinner on stderr while `work` runs, on a terminal only.
    pub fn spin<T>(&self, message: &str, work: impl FnOnce() -> T) -> T {
        if !self.err_is_term {
            return work();
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        let result = work();
        bar.finish_and_clear();
        result
    }

    /// A progress bar on stderr for `len` steps, on a terminal only.
    pub fn progress(&self, len: u64, message: &str) -> Progress {
        if !self.err_is_term {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(len);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_owned());
        // Drawn now, not at the first step: a slow first step shows the bar.
        bar.tick();
        Progress(Some(bar))
    }

    /// Asks for a line of text, with a default.
    pub fn ask(&self, prompt: &str, default: &str) -> anyhow::Result<String> {
        dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            .default(default.to_owned())
            .interact_text()
            .map_err(prompt_error)
    }

    /// Asks to pick one of `items`.
    pub fn choose(&self, prompt: &str, items: &[&str], default: usize) -> anyhow::Result<usize> {
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(prompt_error)
    }

    /// Asks yes or no.
    pub fn confirm(&self, prompt: &str, default: bool) -> anyhow::Result<bool> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(prompt_error)
    }
}

/// A prompt's error: Ctrl-C while it waits (the terminal is in raw mode, so the
/// prompt sees the key) is [`Interrupted`].
fn prompt_error(err: dialoguer::Error) -> anyhow::Error {
    let dialoguer::Error::IO(err) = err;
    if err.kind() == std::io::ErrorKind::Interrupted {
        anyhow::Error::new(Interrupted)
    } else {
        anyhow::Error::new(err).context("reading the answer from the terminal")
    }
}

/// Puts the terminal back after Ctrl-C: shows the cursor (prompts and spinners
/// hide it) and ends the line, so the shell's prompt starts on its own. Writes
/// nothing off a terminal.
pub fn restore_terminal() {
    let term = console::Term::stderr();
    if term.is_term() {
        let _ = term.show_cursor();
        let _ = term.write_line("");
    }
}

/// A progress bar, or nothing off a terminal; shared by worker threads.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// No bar at all (`--json`, or a step that shows a spinner instead).
    pub fn hidden() -> Progress {
        Progress(None)
    }

    /// One step done.
    pub fn inc(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A cell of a table: text and its tone.
pub type Cell = (String, Tone);

/// Renders rows as an aligned table (columns separated by two spaces, no trailing
/// blanks). Width is measured without colour codes.
pub fn table(ui: &Ui, rows: &[Vec<Cell>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for row in rows {
        for (i, (text, _)) in row.iter().enumerate() {
            widths[i] = widths[i].max(console::measure_text_width(text));
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, (text, tone)) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(&ui.paint(*tone, text));
            if i + 1 < row.len() {
                let pad = widths[i] - console::measure_text_width(text);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// "3 minutes ago", "2 days ago": how long before `now` a commit was made.
pub fn age(now: i64, then: i64) -> String {
    let secs = now - then;
    if secs < 0 {
        return "in the future".to_owned();
    }
    let (n, unit) = match secs {
        0..=59 => return "just now".to_owned(),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        86_400..=2_591_999 => (secs / 86_400, "day"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        let cases = [
            (0, "just now"),
            (61, "1 minute ago"),
            (7200, "2 hours ago"),
            (86_400 * 3, "3 days ago"),
            (86_400 * 65, "2 months ago"),
            (86_400 * 800, "2 years ago"),
        ];
        for (secs, want) in cases {
            assert_eq!(age(1_000_000_000 + secs, 1_000_000_000), want, "{secs}");
        }
    }

    #[test]
    fn tables_align_on_visible_width_and_trim_trailing_blanks() {
        let ui = Ui::plain();
        let rows = vec![
            vec![
                ("ENV".to_owned(), Tone::Bold),
                ("TAG".to_owned(), Tone::Bold),
                ("".to_owned(), Tone::Plain),
            ],
            vec![
                ("stage".to_owned(), Tone::Plain),
                ("1.2.3-rc.1".to_owned(), Tone::Bad),
                ("".to_owned(), Tone::Plain),
            ],
            vec![
                ("é".to_owned(), Tone::Plain),
                ("x".to_owned(), Tone::Plain),
                ("end".to_owned(), Tone::Plain),
            ],
        ];
        insta::assert_snapshot!(table(&ui, &rows), @r"
        ENV    TAG
        stage  1.2.3-rc.1
        é      x           end
        ");
    }
}
