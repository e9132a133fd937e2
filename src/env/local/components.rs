//! Finding what the local backend runs: a Java runtime, Apache Kafka's jars
//! and a `toxiproxy-server`. `scripts/provision` installs the last two
//! under one cache directory; what the user already has comes first.

use std::path::{Path, PathBuf};

use crate::env::ProxyMode;

/// Everything the local backend needs, found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components {
    pub java: PathBuf,
    /// A directory of jars like an Apache Kafka download's `libs/`.
    pub kafka_libs: PathBuf,
    /// From the name of `kafka_2.13-<version>.jar`.
    pub kafka_version: String,
    /// None when not needed (a run whose proxy is faultlab's, [`find_for`]).
    pub toxiproxy_server: Option<PathBuf>,
}

/// The cache `scripts/provision` fills: `$FAULTLAB_HOME`, else
/// `$HOME/.cache/faultlab`.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("FAULTLAB_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|home| Path::new(&home).join(".cache/faultlab")))
}

/// Find every component, or say what is missing and how to get it.
pub fn find() -> Result<Components, String> {
    find_for(ProxyMode::Bytes)
}

/// Find what a run with its proxy in `mode` needs: toxiproxy-server only
/// for [`ProxyMode::Bytes`] (with Kafka frames the proxy is faultlab's).
pub fn find_for(mode: ProxyMode) -> Result<Components, String> {
    let mut missing = Vec::new();
    let java = find_java();
    if java.is_none() {
        missing.push("a Java runtime, 17 or newer (`java` on PATH, or JAVA_HOME)".to_string());
    }
    let kafka = find_kafka_libs();
    if let Err(e) = &kafka {
        missing.push(e.clone());
    }
    let toxiproxy = find_toxiproxy();
    if toxiproxy.is_none() && mode == ProxyMode::Bytes {
        missing.push(
            "Toxiproxy's server (FAULTLAB_TOXIPROXY_SERVER, `toxiproxy-server` on PATH, or the cache scripts/provision fills)".into(),
        );
    }
    match (java, kafka) {
        (Some(java), Ok((kafka_libs, kafka_version))) if missing.is_empty() => {
            Ok(Components { java, kafka_libs, kafka_version, toxiproxy_server: toxiproxy })
        }
        _ => Err(format!(
            "--backend local needs {}. `scripts/provision` installs Apache Kafka's jars (with Maven) and Toxiproxy \
             (with Go) into {}",
            missing.join("; "),
            cache_dir().map(|d| d.display().to_string()).unwrap_or_else(|| "$FAULTLAB_HOME".into())
        )),
    }
}

/// What a `client = "java"` producer runs on: a Java runtime and a
/// directory of Kafka's jars (kafka-clients and jackson-databind among them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaClient {
    pub java: PathBuf,
    pub kafka_libs: PathBuf,
}

/// Find Java and Kafka's jars for a Java producer, as the local backend
/// finds them (whichever backend the run is on), or say what is missing.
pub fn find_java_client() -> Result<JavaClient, String> {
    let java = find_java().ok_or_else(|| "a Java runtime, 17 or newer (`java` on PATH, or JAVA_HOME)".to_string());
    match (java, find_kafka_libs()) {
        (Ok(java), Ok((kafka_libs, _))) => Ok(JavaClient { java, kafka_libs }),
        (java, kafka) => {
            let missing: Vec<String> = [java.err(), kafka.err()].into_iter().flatten().collect();
            Err(format!(
                "a producer with client = \"java\" needs {}. `scripts/provision` installs Apache Kafka's jars (with \
                 Maven; Java itself comes from your system) into {}",
                missing.join("; "),
                cache_dir().map(|d| d.display().to_string()).unwrap_or_else(|| "$FAULTLAB_HOME".into())
            ))
        }
    }
}

fn find_java() -> Option<PathBuf> {
    let from_home = std::env::var_os("JAVA_HOME").map(|home| Path::new(&home).join("bin/java")).filter(|p| p.is_file());
    from_home.or_else(|| on_path("java"))
}

/// `FAULTLAB_KAFKA_LIBS`, `$KAFKA_HOME/libs`, or the newest provisioned
/// `kafka-<version>/libs` in the cache; with Kafka's version.
fn find_kafka_libs() -> Result<(PathBuf, String), String> {
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    if let Some(libs) = std::env::var_os("FAULTLAB_KAFKA_LIBS").filter(|v| !v.is_empty()) {
        candidates.push(PathBuf::from(libs));
    }
    if let Some(home) = std::env::var_os("KAFKA_HOME").filter(|v| !v.is_empty()) {
        candidates.push(Path::new(&home).join("libs"));
    }
    if let Some(cache) = cache_dir() {
        // Only complete installs: provision writes VERSION last.
        let mut provisioned: Vec<PathBuf> = std::fs::read_dir(&cache)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("kafka-")) && p.join("VERSION").is_file())
            .map(|p| p.join("libs"))
            .collect();
        provisioned.sort_by_key(|p| std::cmp::Reverse(kafka_version(p).map(|v| version_key(&v))));
        candidates.extend(provisioned);
    }
    for libs in candidates {
        match kafka_version(&libs) {
            Some(version) => return Ok((libs, version)),
            None => tried.push(libs.display().to_string()),
        }
    }
    let tried = if tried.is_empty() { String::new() } else { format!(" (no kafka_2.13-*.jar in {})", tried.join(", ")) };
    Err(format!("Apache Kafka's jars (FAULTLAB_KAFKA_LIBS, KAFKA_HOME, or the cache scripts/provision fills){tried}"))
}

/// Kafka's version, from the `kafka_<scala>-<version>.jar` in `libs`.
pub fn kafka_version(libs: &Path) -> Option<String> {
    std::fs::read_dir(libs).ok()?.flatten().find_map(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rest = name.strip_prefix("kafka_")?.strip_suffix(".jar")?;
        let (_scala, version) = rest.split_once('-')?;
        // kafka_2.13-4.1.1-test.jar and the like are not the broker.
        version.chars().all(|c| c.is_ascii_digit() || c == '.').then(|| version.to_string())
    })
}

fn version_key(version: &str) -> Vec<u64> {
    version.split('.').map(|part| part.parse().unwrap_or(0)).collect()
}

/// The toxiproxy-server to use: FAULTLAB_TOXIPROXY_SERVER, `toxiproxy-server`
/// on PATH, or the newest in the cache `scripts/provision` fills.
pub fn find_toxiproxy() -> Option<PathBuf> {
    if let Some(server) = std::env::var_os("FAULTLAB_TOXIPROXY_SERVER").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(server)).filter(|p| p.is_file());
    }
    on_path("toxiproxy-server").or_else(|| {
        let cache = cache_dir()?;
        let mut found: Vec<PathBuf> = std::fs::read_dir(&cache)
            .ok()?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("toxiproxy-"))
            .map(|e| e.path().join("bin/toxiproxy-server"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_the_broker_jar() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["kafka-clients-4.1.1.jar", "kafka_2.13-4.1.1-test.jar", "kafka_2.13-4.1.1.jar", "log4j-core-2.24.3.jar"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(kafka_version(dir.path()).as_deref(), Some("4.1.1"));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(kafka_version(empty.path()), None);
        assert!(version_key("4.10.0") > version_key("4.9.2"));
    }
}
