//! The deployment manifests, checked without a Spin binary or a cluster (neither installs here):
//! `spin.toml` against the Spin manifest v2 JSON Schema and against the component it must run,
//! and the SpinKube YAML for the fields SpinKube acts on.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every Spin manifest the repository ships.
const SPIN_MANIFESTS: [&str; 4] = [
    "spin.toml",
    "deploy/spin4/spin.toml",
    "examples/spin-app/spin.toml",
    "examples/spin-middleware/spin.toml",
];

fn manifest(path: &str) -> Value {
    let table: toml::Table = toml::from_str(&repo_file(path)).expect("a Spin manifest is TOML");
    serde_json::to_value(table).expect("as JSON")
}

fn spin_manifest() -> Value {
    manifest("spin.toml")
}

#[test]
fn spin_toml_follows_the_manifest_v2_schema() {
    let schema: Value =
        serde_json::from_str(&repo_file("deploy/schemas/spin-manifest-v2.schema.json"))
            .expect("schema JSON");
    let validator = jsonschema::draft7::new(&schema).expect("a valid draft-07 schema");
    for path in SPIN_MANIFESTS {
        let mut checked = manifest(path);
        // The vendored schema predates Spin 4.1's trigger `dependencies` (middleware), which
        // Spin 4.1 accepts and tests/middleware.rs serves; everything else is checked.
        for trigger in checked["trigger"]["http"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if let Some(trigger) = trigger.as_object_mut() {
                trigger.remove("dependencies");
            }
        }
        let errors: Vec<String> = validator
            .iter_errors(&checked)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{path} breaks the schema:\n{}",
            errors.join("\n")
        );
    }

    // The schema must be able to fail: a manifest without [application] does.
    let mut broken = spin_manifest();
    broken
        .as_object_mut()
        .expect("object")
        .remove("application");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn spin_toml_runs_the_gateway_component() {
    let m = spin_manifest();
    let trigger = &m["trigger"]["http"][0];
    assert_eq!(trigger["route"], "/...", "every path goes to the gateway");
    let component = &m["component"][trigger["component"].as_str().expect("component id")];
    assert_eq!(
        component["source"],
        "target/wasm32-wasip2/release/corsgate.wasm"
    );
    let command = component["build"]["command"]
        .as_str()
        .expect("build command");
    assert!(
        command.contains("--target wasm32-wasip2")
            && command.contains("--release")
            && command.contains("corsgate"),
        "{command}"
    );
    let watch: Vec<&str> = component["build"]["watch"]
        .as_array()
        .expect("watch")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        watch.contains(&"policies/**/*.toml"),
        "spin watch must rebuild on policy changes: {watch:?}"
    );
}

fn yaml_documents(path: &str) -> Vec<serde_yaml::Value> {
    let text = repo_file(path);
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde_yaml::Value::deserialize(d).expect("valid YAML"))
        .collect()
}

fn check_spinapp(app: &serde_yaml::Value, path: &str) {
    assert_eq!(
        app["apiVersion"].as_str(),
        Some("core.spinkube.dev/v1alpha1"),
        "{path}"
    );
    assert_eq!(app["kind"].as_str(), Some("SpinApp"), "{path}");
    assert!(
        app["metadata"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{path}: metadata.name"
    );
    let spec = &app["spec"];
    assert!(
        spec["image"].as_str().is_some_and(|i| i.contains(':')),
        "{path}: spec.image with a tag"
    );
    assert_eq!(
        spec["executor"].as_str(),
        Some("containerd-shim-spin"),
        "{path}"
    );
    for field in ["cpu", "memory"] {
        assert!(
            spec["resources"]["limits"][field].as_str().is_some(),
            "{path}: resources.limits.{field}"
        );
    }
    let autoscaled = spec["enableAutoscaling"].as_bool() == Some(true);
    let replicas = spec["replicas"].as_u64();
    assert!(
        autoscaled != replicas.is_some(),
        "{path}: either enableAutoscaling or replicas, not both"
    );
}

/// The `SpinApp` CRD's OpenAPI v3 schema (`v1alpha1`), vendored in `deploy/schemas/`, as a
/// validator. Unknown fields are refused, as `kubectl apply --validate=strict` refuses them: the
/// API server would otherwise prune them silently, and a misspelt field is a setting that never
/// applies. (The schema's `x-kubernetes-int-or-string` nodes already spell out their
/// `anyOf: [integer, string]`; no node preserves unknown fields.)
fn spinapp_schema() -> jsonschema::Validator {
    let crd: serde_yaml::Value =
        serde_yaml::from_str(&repo_file("deploy/schemas/core.spinkube.dev_spinapps.yaml"))
            .expect("the CRD's YAML");
    let version = crd["spec"]["versions"]
        .as_sequence()
        .expect("versions")
        .iter()
        .find(|v| v["name"].as_str() == Some("v1alpha1"))
        .expect("the v1alpha1 version");
    let mut schema =
        serde_json::to_value(&version["schema"]["openAPIV3Schema"]).expect("schema as JSON");
    refuse_unknown_fields(&mut schema);
    jsonschema::draft4::new(&schema).expect("a valid schema")
}

/// Every object schema that lists its properties gets `additionalProperties: false`, unless it
/// says otherwise itself; nested schemas likewise.
fn refuse_unknown_fields(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if object.contains_key("properties")
        && !object.contains_key("additionalProperties")
        && !object.contains_key("x-kubernetes-preserve-unknown-fields")
    {
        object.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" => {
                for property in value
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|p| p.values_mut())
                {
                    refuse_unknown_fields(property);
                }
            }
            "items" | "additionalProperties" | "not" => refuse_unknown_fields(value),
            "anyOf" | "allOf" | "oneOf" => {
                for alternative in value.as_array_mut().into_iter().flatten() {
                    refuse_unknown_fields(alternative);
                }
            }
            _ => {}
        }
    }
}

/// What `schema` finds wrong with `app`, one `message at /path` line each.
fn schema_errors(schema: &jsonschema::Validator, app: &serde_yaml::Value) -> Vec<String> {
    let app = serde_json::to_value(app).expect("manifest as JSON");
    schema
        .iter_errors(&app)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn spinkube_manifests_follow_the_spinapp_crd() {
    let schema = spinapp_schema();
    let mut checked = 0;
    for path in [
        "deploy/spinkube/spinapp.yaml",
        "deploy/spinkube/spinapp-fixed-replicas.yaml",
        "deploy/spinkube/spinapp-live-origins.yaml",
    ] {
        for app in yaml_documents(path) {
            if app["kind"].as_str() != Some("SpinApp") {
                continue;
            }
            let errors = schema_errors(&schema, &app);
            assert!(
                errors.is_empty(),
                "{path} breaks the SpinApp CRD:\n{}",
                errors.join("\n")
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3, "every SpinApp manifest was checked");
}

/// The CRD check can fail: each broken copy of a shipped manifest is refused, at the place the
/// mistake is.
#[test]
fn a_broken_spinapp_manifest_is_refused() {
    struct Case {
        name: &'static str,
        break_it: fn(&mut serde_yaml::Value),
        at: &'static str,
    }
    let cases = [
        Case {
            name: "replicas written as a word",
            break_it: |app| app["spec"]["replicas"] = "two".into(),
            at: "/spec/replicas",
        },
        Case {
            name: "a misspelt field",
            break_it: |app| {
                app["spec"]
                    .as_mapping_mut()
                    .expect("spec")
                    .insert("replica".into(), 2.into());
            },
            at: "/spec",
        },
        Case {
            name: "no executor",
            break_it: |app| {
                app["spec"]
                    .as_mapping_mut()
                    .expect("spec")
                    .remove("executor");
            },
            at: "/spec",
        },
        Case {
            name: "a CPU limit that is not a quantity",
            break_it: |app| app["spec"]["resources"]["limits"]["cpu"] = "half a core".into(),
            at: "/spec/resources/limits/cpu",
        },
        Case {
            name: "enableAutoscaling as a string",
            break_it: |app| app["spec"]["enableAutoscaling"] = "yes".into(),
            at: "/spec/enableAutoscaling",
        },
    ];
    let schema = spinapp_schema();
    let shipped = yaml_documents("deploy/spinkube/spinapp-fixed-replicas.yaml").remove(0);
    for case in cases {
        let mut broken = shipped.clone();
        (case.break_it)(&mut broken);
        let errors = schema_errors(&schema, &broken);
        assert!(
            errors
                .iter()
                .any(|e| e.ends_with(&format!(" at {}", case.at))),
            "case {}: expected an error at {}, got {errors:?}",
            case.name,
            case.at
        );
    }
}

#[test]
fn spinkube_manifests_are_coherent() {
    let fixed = yaml_documents("deploy/spinkube/spinapp-fixed-replicas.yaml");
    assert_eq!(fixed.len(), 1);
    check_spinapp(&fixed[0], "spinapp-fixed-replicas.yaml");

    let app = yaml_documents("deploy/spinkube/spinapp.yaml");
    check_spinapp(&app[0], "spinapp.yaml");
    let hpa = &yaml_documents("deploy/spinkube/hpa.yaml")[0];
    assert_eq!(hpa["apiVersion"].as_str(), Some("autoscaling/v2"));
    assert_eq!(hpa["kind"].as_str(), Some("HorizontalPodAutoscaler"));
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(
        target["kind"].as_str(),
        Some("Deployment"),
        "the operator's Deployment is what scales"
    );
    assert_eq!(
        target["name"], app[0]["metadata"]["name"],
        "the HPA targets this SpinApp's Deployment"
    );
    let (min, max) = (
        hpa["spec"]["minReplicas"].as_u64().expect("min"),
        hpa["spec"]["maxReplicas"].as_u64().expect("max"),
    );
    assert!(1 <= min && min <= max, "replica bounds {min}..{max}");
    assert!(
        app[0]["spec"]["enableAutoscaling"].as_bool() == Some(true),
        "an autoscaled SpinApp leaves replicas to the HPA"
    );
}

/// The policy files of a folder of the repository, as JSON values (name, value).
fn policies_as_json(folder: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read policy");
            let table: toml::Table = toml::from_str(&text).expect("policy is TOML");
            (
                path.display().to_string(),
                serde_json::to_value(table).expect("as JSON"),
            )
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn policy_schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&repo_file("deploy/schemas/corsgate-policy.schema.json"))
            .expect("schema JSON");
    jsonschema::draft7::new(&schema).expect("a valid draft-07 schema")
}

#[test]
fn policy_schema_is_the_one_corsgate_schema_prints() {
    assert_eq!(
        repo_file("deploy/schemas/corsgate-policy.schema.json"),
        corsgate_core::config::json_schema::policy_schema(),
        "regenerate it: cargo run -p corsgate-cli -- schema > deploy/schemas/corsgate-policy.schema.json"
    );
}

#[test]
fn policy_schema_accepts_valid_policies_and_rejects_structural_mistakes() {
    let validator = policy_schema();
    let valid = [
        "policies",
        "tests/policies",
        "examples/spin-app/policies",
        "tests/invalid-policies",
    ];
    for folder in valid {
        for (file, policy) in policies_as_json(folder) {
            let structurally_invalid = file.ends_with("invalid-policies/broken.toml");
            let errors: Vec<String> = validator
                .iter_errors(&policy)
                .map(|e| e.to_string())
                .collect();
            assert_eq!(
                errors.is_empty(),
                !structurally_invalid,
                "{file}: {errors:?}"
            );
        }
    }
    /// A policy file that breaks the file's structure, which the schema alone can tell.
    struct Case {
        name: &'static str,
        text: String,
    }
    let route = "[route]\npath = \"/x/...\"\nupstream = \"https://api.example.com\"\n";
    let cases = [
        Case {
            name: "unknown key",
            text: format!("{route}[cors]\nallow_origins = [\"*\"]\nallow_origin = []\n"),
        },
        Case {
            name: "wrong type",
            text: format!("{route}[cors]\nallow_origins = [\"*\"]\nmax_age = \"600\"\n"),
        },
        Case {
            name: "out of range",
            text: format!("{route}[cors]\nallow_origins = [\"*\"]\nmax_age = 90000\n"),
        },
        Case {
            name: "unknown preflight mode",
            text: format!("{route}[cors]\nallow_origins = [\"*\"]\npreflight = \"edgy\"\n"),
        },
        Case {
            name: "missing required key",
            text: format!("{route}[cors]\nallow_methods = [\"PUT\"]\n"),
        },
        Case {
            name: "missing table",
            text: route.to_string(),
        },
        Case {
            name: "unknown table",
            text: format!("{route}[cors]\nallow_origins = [\"*\"]\n[extra]\nx = 1\n"),
        },
    ];
    for Case { name, text } in cases {
        let table: toml::Table = toml::from_str(&text).expect("TOML");
        let policy = serde_json::to_value(table).expect("JSON");
        assert!(
            !validator.is_valid(&policy),
            "case {name} passed the schema"
        );
    }
}
