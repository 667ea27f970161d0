//! What `/proc` tells of a process: resident memory and CPU time.

use std::time::Duration;

/// Which process to read: another one by pid, or this one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Process {
    /// `/proc/<pid>`.
    Pid(u32),
    /// `/proc/self`.
    This,
}

impl Process {
    fn path(self, file: &str) -> String {
        match self {
            Self::Pid(pid) => format!("/proc/{pid}/{file}"),
            Self::This => format!("/proc/self/{file}"),
        }
    }

    /// `VmRSS` of `/proc/<pid>/status`, in KiB.
    pub(crate) fn rss_kib(self) -> Result<u64, String> {
        let path = self.path("status");
        let status =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse().ok())
            .ok_or_else(|| format!("no VmRSS in {path}"))
    }

    /// User plus system CPU time of all its threads (`utime + stime` of `/proc/<pid>/stat`,
    /// counted in ticks of 1/100 s, the `USER_HZ` of Linux on every common architecture).
    pub(crate) fn cpu_time(self) -> Result<Duration, String> {
        let path = self.path("stat");
        let stat =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        // The command name, in parentheses, may hold spaces: the fields follow its last ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        // Fields 14 and 15 of the file; the state (field 3) is the first after the name.
        let ticks = |index: usize| -> Option<u64> { fields.get(index)?.parse().ok() };
        let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
            return Err(format!("no utime/stime in {path}"));
        };
        Ok(Duration::from_millis((user + system) * 10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_cpu_time() {
        assert!(Process::This.rss_kib().unwrap() > 0);
        assert!(Process::This.cpu_time().is_ok());
    }
}
