//! Backup and restore of the store: a consistent copy taken while a server may be writing, and a
//! restore into an empty data dir from which the index and the vectors are rebuilt (they are
//! derived data and never copied).

use crate::error::{Result, UserError};

use super::Engine;

impl Engine {
    /// Writes a consistent copy of the store to `dest`, which must not exist yet; safe while
    /// another process (a running server) writes the data dir. The index and the vectors in memory
    /// are derived data and not copied: [`Engine::restore`] rebuilds them.
    pub fn backup(&self, dest: &std::path::Path) -> Result<()> {
        if dest.exists() {
            return Err(UserError::BadArgument {
                field: dest.display().to_string(),
                message: "exists already; give a new file name (a backup never overwrites)".into(),
            }
            .into());
        }
        self.indexer.store.backup_to(dest).inspect_err(|_| {
            let _ = std::fs::remove_file(dest);
        })
    }

    /// Restores a copy made by [`Engine::backup`] into the data dir of `config`, which must be
    /// empty or absent, and opens the engine on it: the search index is built from the restored
    /// store and the stored vectors are used (profiles without them are embedded).
    pub fn restore(config: &super::EngineConfig, backup: &std::path::Path) -> Result<Engine> {
        let data_dir = &config.data_dir;
        let occupied = match std::fs::read_dir(data_dir) {
            Ok(mut entries) => entries.next().is_some(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(e.into()),
        };
        if occupied {
            return Err(UserError::BadArgument {
                field: data_dir.display().to_string(),
                message: "is not empty; restore only into an empty or new data dir".into(),
            }
            .into());
        }
        std::fs::create_dir_all(data_dir)?;
        let store_path = data_dir.join("pitchmatch.sqlite");
        if let Err(e) = crate::store::Store::restore_copy(backup, &store_path) {
            let _ = std::fs::remove_file(&store_path);
            return Err(e);
        }
        Engine::open_with(&super::EngineConfig { access: super::Access::ReadWrite, ..config.clone() })
    }
}
