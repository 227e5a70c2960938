//! Files large enough to be hashed while they upload (32 MiB and up): the registry gets a
//! streamed upload completed with the digest once known; a second push finds the blob and
//! abandons the upload; an OCI layout hashes the file as it copies it in.

use crate::harness::{Sandbox, registry, sha256_hex};

fn big_file(sb: &Sandbox) -> Vec<u8> {
    let mut data = vec![0u8; 40 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    sb.write("big.bin", &data);
    data
}

#[test]
fn large_file_push_hashes_while_uploading_and_round_trips() {
    let sb = Sandbox::new();
    let data = big_file(&sb);
    let short = &sha256_hex(&data)[..12];
    let reference = registry().reference("large/stream:v1");
    let out = sb.oras().args(["push", &reference, "big.bin"]).success();
    out.assert_line(&format!("Uploaded  {short} big.bin"));
    let again = sb
        .oras()
        .args(["push", &registry().reference("large/stream:v2"), "big.bin"])
        .success();
    // Same repository, so the blob is found once its digest is known.
    assert!(
        again.stdout.contains(&format!("Exists    {short} big.bin")),
        "{again}"
    );
    sb.oras().args(["pull", &reference, "-o", "out"]).success();
    assert!(sb.read("out/big.bin") == data, "pulled bytes differ");
}

#[test]
fn large_file_push_to_a_layout_round_trips() {
    let sb = Sandbox::new();
    let data = big_file(&sb);
    sb.oras()
        .args(["push", "--oci-layout", "lay:v1", "big.bin"])
        .success();
    let blob = sb.path(&format!("lay/blobs/sha256/{}", sha256_hex(&data)));
    assert!(blob.is_file(), "blob stored under its digest");
    let again = sb
        .oras()
        .args(["push", "--oci-layout", "lay:v2", "big.bin"])
        .success();
    let short = &sha256_hex(&data)[..12];
    again.assert_line(&format!("Exists    {short} big.bin"));
    let leftovers: Vec<_> = std::fs::read_dir(sb.path("lay/blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    sb.oras()
        .args(["pull", "--oci-layout", "lay:v1", "-o", "out"])
        .success();
    assert!(sb.read("out/big.bin") == data, "pulled bytes differ");
}
