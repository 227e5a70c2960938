//! Files ↔ layers: `file[:type]` arguments, packing files and directories into blobs on push,
//! and writing pulled layers safely (inside the output directory, verified, atomically).

mod pack;
mod unpack;

pub(crate) use pack::hash_file;
pub use pack::{
    EmptyPath, FileRef, PackTo, pack_bytes_file, pack_bytes_reader, pack_path, pack_reader,
    parse_file_ref, title_of,
};
pub use unpack::{
    WriteOptions, extract_tar, not_a_tar, resolve_output_path, write_blob_file, write_directory,
};
