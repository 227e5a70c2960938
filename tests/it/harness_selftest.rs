//! Checks the harness itself: both registry modes come up and skopeo can push to them.

use crate::harness::{
    HandLayer, Sandbox, auth_registry, http_status, registry, skopeo_unchecked, write_layout,
};

#[test]
fn open_registry_answers_v2_with_200() {
    let registry = registry();
    assert!(!registry.has_auth());
    assert_eq!(
        http_status(registry.port(), "/v2/"),
        Some(200),
        "log:\n{}",
        registry.log()
    );
    assert_eq!(registry.host(), format!("localhost:{}", registry.port()));
}

#[test]
fn auth_registry_answers_v2_with_401() {
    let registry = auth_registry();
    assert!(registry.has_auth());
    assert_eq!(
        http_status(registry.port(), "/v2/"),
        Some(401),
        "log:\n{}",
        registry.log()
    );
}

#[test]
fn skopeo_pushes_a_hand_built_layout_to_both_registries() {
    let sandbox = Sandbox::new();
    let layout = sandbox.path("layout");
    let built = write_layout(
        &layout,
        "v1",
        &[HandLayer {
            title: "a.txt",
            content: b"harness a\n",
        }],
        None,
    );
    for registry in [registry(), auth_registry()] {
        registry.skopeo_push_layout(&layout, "v1", "selftest/img:v1");
        let manifest = registry.manifest("selftest/img:v1");
        assert_eq!(
            format!("sha256:{}", crate::harness::sha256_hex(&manifest)),
            built.manifest_digest,
            "skopeo must keep the manifest bytes"
        );
    }
    // Without credentials the htpasswd registry refuses reads.
    let denied = skopeo_unchecked(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &auth_registry().docker_ref("selftest/img:v1"),
    ]);
    assert_ne!(denied.code, 0, "anonymous read should be refused\n{denied}");
}

#[test]
#[should_panic(expected = "apt-get install -y docker-registry skopeo")]
fn a_missing_tool_fails_loudly_with_the_install_command() {
    crate::harness::require_tool("oras-it-no-such-tool");
}
