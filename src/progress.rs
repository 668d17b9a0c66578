//! Progress bars on stderr (only when stderr is a terminal), like Kubo's.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Inputs at least this large get a progress bar.
pub const BAR_THRESHOLD: u64 = 4 << 20;

/// A byte progress bar if stderr is a terminal and `total` is worth one; hidden otherwise.
pub fn bytes_bar(total: u64, enabled: bool) -> ProgressBar {
    if !enabled || total < BAR_THRESHOLD || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bytes:>10} / {total_bytes:<10} [{bar:40}] {percent:>3}% {bytes_per_sec} {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// A counting bar (e.g. blocks verified), same rules.
pub fn count_bar(total: u64, what: &str) -> ProgressBar {
    if total < 1000 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!("{{pos}}/{{len}} {what} [{{bar:40}}] {{eta}}"))
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}
