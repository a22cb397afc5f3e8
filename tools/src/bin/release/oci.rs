//! Pushing a component to an OCI registry in the Wasm OCI artifact format that wasm-pkg-tools
//! (`wkg oci pull`) and the CNCF TAG Runtime's spec
//! (https://tag-runtime.cncf.io/wgs/wasm/deliverables/wasm-oci-artifact/) read: a config of
//! media type `application/vnd.wasm.config.v0+json` and one `application/wasm` layer, sent
//! with the distribution API (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
//! each blob by a monolithic upload (`POST` then `PUT ?digest=`), then the manifest by tag.

use serde_json::json;
use ureq::Agent;

use crate::digests::oci_digest;
use crate::timestamp::rfc3339;

pub(crate) const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// A registry spoken to over plain HTTP: the local or test registries `--insecure` is for.
/// (Registries behind TLS and a login are pushed to by `spin registry push` only.)
#[derive(Debug)]
pub(crate) struct Registry {
    base: String,
    agent: Agent,
}

impl Registry {
    /// `host[:port]`.
    pub(crate) fn insecure(host: &str) -> Registry {
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Registry {
            base: format!("http://{host}"),
            agent,
        }
    }

    /// Pushes `wasm` as `<repository>:<tag>` and returns the manifest's digest. `epoch` is the
    /// config's `created` time: the build's, so the same component gives the same manifest.
    pub(crate) fn push_component(
        &self,
        repository: &str,
        tag: &str,
        wasm: &[u8],
        epoch: u64,
    ) -> Result<String, String> {
        let layer_digest = oci_digest(wasm);
        let config = serde_json::to_vec(&json!({
            "created": rfc3339(epoch),
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [layer_digest],
        }))
        .expect("a JSON value serializes");
        self.push_blob(repository, wasm)?;
        self.push_blob(repository, &config)?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "artifactType": "application/vnd.wasm.component.v1+wasm",
            "config": { "mediaType": CONFIG_MEDIA_TYPE, "digest": oci_digest(&config), "size": config.len() },
            "layers": [{ "mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": wasm.len() }],
        }))
        .expect("a JSON value serializes");
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.base);
        let response = self
            .agent
            .put(&url)
            .header("Content-Type", MANIFEST_MEDIA_TYPE)
            .send(&manifest[..])
            .map_err(|e| format!("PUT {url}: {e}"))?;
        expect_status(response, 201, "PUT", &url)?;
        Ok(oci_digest(&manifest))
    }

    /// Uploads `bytes` unless the repository has them already.
    fn push_blob(&self, repository: &str, bytes: &[u8]) -> Result<(), String> {
        let digest = oci_digest(bytes);
        let url = format!("{}/v2/{repository}/blobs/{digest}", self.base);
        let head = self
            .agent
            .head(&url)
            .call()
            .map_err(|e| format!("HEAD {url}: {e}"))?;
        if head.status() == 200 {
            return Ok(());
        }
        let start = format!("{}/v2/{repository}/blobs/uploads/", self.base);
        let started = self
            .agent
            .post(&start)
            .send_empty()
            .map_err(|e| format!("POST {start}: {e}"))?;
        let location = started
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_string);
        expect_status(started, 202, "POST", &start)?;
        let location = location.ok_or_else(|| format!("POST {start}: no Location"))?;
        // The Location may be relative, and may already carry a query (the upload's state).
        let upload = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location
        };
        let separator = if upload.contains('?') { '&' } else { '?' };
        let put = format!("{upload}{separator}digest={digest}");
        let response = self
            .agent
            .put(&put)
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| format!("PUT {put}: {e}"))?;
        expect_status(response, 201, "PUT", &put)
    }
}

fn expect_status(
    mut response: ureq::http::Response<ureq::Body>,
    expected: u16,
    method: &str,
    url: &str,
) -> Result<(), String> {
    let status = response.status().as_u16();
    if status == expected {
        return Ok(());
    }
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Err(format!(
        "{method} {url}: {status} (expected {expected}): {body}"
    ))
}
