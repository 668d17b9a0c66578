//! UnixFS on top of the blockstore: import (`add`), read (`cat`), list (`ls`), export (`get`)
//! and path resolution, with CIDs identical to Kubo's for the same input and flags.

mod add;
mod balanced;
mod dir_build;
mod dir_import;
mod entries;
mod export;
mod leaves;
mod options;
mod read;
mod resolve;
mod sink;
mod tar;
mod trickle;

pub use add::{AddEvent, ImportedFile, Importer};
pub use dir_build::DirLink;
pub use dir_import::HAMT_THRESHOLD;
pub use entries::{EntryKind, EntrySource};
pub use export::export_to_path;
pub use options::AddOptions;
pub use read::{FileReader, ListEntry, list_directory};
pub use resolve::{NodeKind, ResolvedPath, node_kind, resolve_path, resolve_segment};
pub use sink::{BlockSink, HashOnlySink, StoreSink};
pub use tar::export_tar;
