//! The schema pruned to the keys a file writes: the first file of a run is validated with it, as
//! compiling the whole schema costs more than checking a small file.

use serde_json::Value;

/// Every key of every mapping in `v`.
pub(super) fn keys_of<'v>(v: &'v Value, out: &mut std::collections::HashSet<&'v str>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                out.insert(k);
                keys_of(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys_of(x, out)),
        _ => {}
    }
}

/// `schema` with the subschema of every property whose name is not in `keys` replaced by `true`:
/// nothing can be validated against it, and every schema path stays as it was, so findings are
/// looked up in the whole schema.
pub(super) fn prune(schema: &Value, keys: &std::collections::HashSet<&str>) -> Value {
    match schema {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("properties", Value::Object(props)) => Value::Object(
                            props
                                .iter()
                                .map(|(name, sub)| {
                                    let sub = if keys.contains(name.as_str()) {
                                        prune(sub, keys)
                                    } else {
                                        Value::Bool(true)
                                    };
                                    (name.clone(), sub)
                                })
                                .collect(),
                        ),
                        _ => prune(v, keys),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| prune(x, keys)).collect()),
        other => other.clone(),
    }
}
