//! The data dir holds personal data (names and contact e-mails of suppliers, token hashes), so
//! nothing pitchmatch writes should be readable by other local users. Rather than set modes file by
//! file (SQLite creates its WAL and shared-memory files itself, tantivy its segment files), the
//! process starts with a umask of 077: every directory it creates is 0700, every file 0600,
//! including a backup copy.

/// Sets the process umask to 077 (owner only) before anything is created.
pub(crate) fn owner_only_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask and cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}
