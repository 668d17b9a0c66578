//! Running an external capture command with a deadline.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::CameraError;

/// What a finished command printed.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program args…`, killing it if it outlives `timeout`.
/// A missing program becomes [`CameraError::NotFound`].
pub(crate) fn run(
    program: &Path,
    args: &[String],
    timeout: Duration,
) -> Result<Finished, CameraError> {
    let name = program.display().to_string();
    let mut child = spawn(program, args).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            CameraError::NotFound(format!("{name} is not installed or not on PATH"))
        }
        _ => CameraError::CommandFailed {
            program: name.clone(),
            message: format!("cannot start: {e}"),
        },
    })?;
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            // The reader threads are left to finish on their own: a
            // grandchild may still hold the pipes open.
            return Err(CameraError::Timeout {
                program: name,
                seconds: timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Finished {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Spawns with piped output, retrying briefly on "text file busy" (a
/// freshly written script whose descriptor a concurrent fork still holds).
fn spawn(program: &Path, args: &[String]) -> std::io::Result<Child> {
    let mut attempt = 0;
    loop {
        let result = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 20 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}
