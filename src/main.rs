//! The faultlab command: parse, call the library, map the outcome to an exit code.
//!
//! Exit codes: 0 every required expectation held; 1 one did not, or a
//! scenario could not be run; 2 usage or scenario-file error; 130 interrupted.

use std::process::ExitCode;

use clap::Parser;
use faultlab::cli::{Cli, Command, RunArgs};
use faultlab::harness::{self, Options};
use faultlab::report::{json, outputs, terminal};
use faultlab::scenario::{self, Scenario, ScenarioError};

/// The default log filter: warnings, except from the embedded broker, which
/// logs every deduplicated idempotent retry as an error (that is the
/// behaviour under test, not a fault). RUST_LOG overrides it.
const QUIET: &str = "warn,tansu_storage=off,tansu_broker=off,tansu_service=off,tansu_sans_io=off,tansu_schema=off";

/// Added to [`QUIET`] for `faultlab run`: the librdkafka warnings of an
/// in-process producer service (the http driver) are what the faults are
/// meant to cause, as they are for direct producers, whose warnings go into
/// the report instead of the terminal.
const QUIET_RUN: &str = ",faultlab::serve::producers=error";

const FAILED: u8 = 1;
const USAGE: u8 = 2;
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = match cli.command {
        Command::Run(_) => format!("{QUIET}{QUIET_RUN}"),
        _ => QUIET.to_string(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| quiet.into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Validate { paths } => validate(&paths),
        Command::List { paths } => list(&paths),
        Command::Run(args) => run(args),
        Command::Bench(args) => bench(&args),
        Command::Proxy { listen, seed, kafka, kafka_listen } => proxy(listen, seed, kafka, &kafka_listen),
        Command::Serve(args) => serve(args),
        Command::Up(args) => up(args),
        Command::Report { runs, compare, outputs } => report(&runs, compare, &outputs.outputs()),
    }
}

fn load_all(paths: &[std::path::PathBuf]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let files = scenario::collect(paths).map_err(|e| vec![e])?;
    let (mut loaded, mut errors) = (Vec::new(), Vec::new());
    for file in files {
        match scenario::load(&file) {
            Ok(s) => loaded.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(loaded) } else { Err(errors) }
}

fn report_errors(errors: &[ScenarioError]) -> ExitCode {
    for error in errors {
        eprintln!("error: {error}");
    }
    ExitCode::from(USAGE)
}

fn validate(paths: &[std::path::PathBuf]) -> ExitCode {
    match load_all(paths) {
        Ok(scenarios) => {
            for s in &scenarios {
                println!("ok  {} ({})", s.source.display(), s.name);
            }
            ExitCode::SUCCESS
        }
        Err(errors) => report_errors(&errors),
    }
}

fn list(paths: &[std::path::PathBuf]) -> ExitCode {
    match load_all(paths) {
        Ok(scenarios) => {
            let width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
            for s in &scenarios {
                let first_line = s.description.lines().next().unwrap_or("");
                println!("{:width$}  {first_line}", s.name);
            }
            ExitCode::SUCCESS
        }
        Err(errors) => report_errors(&errors),
    }
}

fn report(runs: &[std::path::PathBuf], compare: bool, asked: &outputs::Outputs) -> ExitCode {
    if let Err(e) = outputs::check(asked) {
        eprintln!("error: {e:#}");
        return ExitCode::from(USAGE);
    }
    let mut loaded = Vec::new();
    for path in runs {
        match json::read(path) {
            Ok(report) => loaded.push(report),
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(USAGE);
            }
        }
    }
    if compare {
        let [before, after] = loaded.as_slice() else {
            eprintln!("error: --compare takes exactly two saved runs (got {})", loaded.len());
            return ExitCode::from(USAGE);
        };
        print!("{}", faultlab::report::compare::render(before, after));
        return ExitCode::SUCCESS;
    }
    // Several saved runs render as one report, scenarios in the order given.
    let mut merged = loaded.remove(0);
    for more in loaded {
        merged.interrupted |= more.interrupted;
        merged.scenarios.extend(more.scenarios);
    }
    if finish(&merged, asked) { ExitCode::SUCCESS } else { ExitCode::from(FAILED) }
}

/// Print the summary, write every report file, and print the verdict last,
/// once the files exist (PASSED only if they all do). The summary goes to
/// stderr when a report goes to stdout (`-`). Whether every file was written.
fn finish(report: &faultlab::report::RunReport, asked: &outputs::Outputs) -> bool {
    let to_stderr = outputs::uses_stdout(asked);
    let say = |text: &str| if to_stderr { eprint!("{text}") } else { print!("{text}") };
    say(&terminal::scenarios(report));
    let failures = outputs::write(report, asked);
    for failure in &failures {
        eprintln!("error: {failure:#}");
    }
    say(&terminal::verdict(report, failures.len()));
    failures.is_empty()
}

fn proxy(listen: std::net::SocketAddr, seed: u64, kafka: Option<String>, kafka_listen: &str) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let served = runtime.block_on(async {
        let api = faultlab::proxy::api::bind(listen, seed).await?;
        // Kept for as long as the API serves: it rewrites the brokers' addresses.
        let _front = match &kafka {
            None => None,
            Some(bootstrap) => {
                let front = faultlab::proxy::kafka::KafkaFront::start(kafka_listen, bootstrap, seed, Some(api.registry())).await?;
                eprintln!(
                    "faultlab proxy: Kafka bootstrap on {} (proxy {}, upstream {bootstrap}); each broker gets a proxy kafka-broker-<node id>",
                    front.bootstrap().listen(),
                    front.bootstrap().name()
                );
                Some(front)
            }
        };
        let stop = stop_signal();
        // The bound address, so that `--listen 127.0.0.1:0` says which port it got.
        eprintln!("faultlab proxy: Toxiproxy API on http://{} (Ctrl-C or SIGTERM to stop)", api.local_addr());
        api.serve(stop).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

/// Resolves at the first SIGINT (Ctrl-C) or SIGTERM (docker stop) from
/// now on. The handlers are installed when this is called, not when the
/// future is first polled: a command calls it before it says it is ready,
/// so a signal sent right after that is never lost to the default action.
/// Must be called inside the runtime.
fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                return futures::future::Either::Left(async move {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                });
            }
            (Err(e), _) | (_, Err(e)) => eprintln!("warning: cannot watch SIGINT and SIGTERM ({e}); only Ctrl-C stops it"),
        }
    }
    futures::future::Either::Right(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn serve(args: faultlab::serve::ServeArgs) -> ExitCode {
    let config = match args.into_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("listening on {}: {e} (choose another address with --listen or FAULTLAB_LISTEN)", config.listen))?;
        let stop = stop_signal();
        eprintln!(
            "faultlab serve: http://{} producing to {} (SIGINT or SIGTERM stops it after flushing)",
            listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| config.listen.to_string()),
            config.bootstrap_servers
        );
        faultlab::serve::serve_accounted(config, listener, stop).await
    });
    match served {
        Ok(account) if account.not_delivered() == 0 => {
            eprintln!("faultlab serve: stopped; all {} accepted messages delivered ({})", account.accepted(), account.summary());
            ExitCode::SUCCESS
        }
        Ok(account) => {
            eprintln!(
                "error: {} of {} accepted messages were not delivered ({}); each has a log line with its requestId and eventId (those settled before the shutdown at info level)",
                account.not_delivered(),
                account.accepted(),
                account.summary()
            );
            ExitCode::from(FAILED)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

fn up(args: faultlab::cli::UpArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let outcome = runtime.block_on(async {
        let up = faultlab::up::start(&args.config()).await?;
        let stop = stop_signal();
        print!("{}", up.instructions());
        up.serve(stop).await
    });
    // The broker's tasks end with the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match outcome {
        Ok(()) => {
            eprintln!("faultlab up: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let scenarios = match load_all(&args.paths) {
        Ok(s) => s,
        Err(errors) => return report_errors(&errors),
    };
    // Before anything starts: a run never finds at its end that it has
    // nowhere to put its reports.
    let asked = args.outputs.outputs();
    if let Err(e) = outputs::check(&asked) {
        eprintln!("error: {e:#}");
        return ExitCode::from(USAGE);
    }
    let interrupt = tokio_util::sync::CancellationToken::new();
    let options = Options {
        backend: args.backend,
        backend_config: args.backend_flags.config(),
        seed: args.seed,
        repeat: args.repeat,
        only: args.only,
        progress: true,
        interrupt: interrupt.clone(),
    };
    if let Err(e) = harness::check_backend(&scenarios, &options) {
        eprintln!("error: {e}");
        return ExitCode::from(USAGE);
    }
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let backend = options.backend;
    // Installed before anything runs, so no signal meets the default action.
    let first = {
        let _inside = runtime.enter();
        stop_signal()
    };
    runtime.spawn(async move {
        // The first Ctrl-C (or SIGTERM, what a CI runner sends on cancel)
        // stops the run cleanly; a second one stops now.
        first.await;
        eprintln!("\ninterrupted: removing faults and reading back what was written (Ctrl-C again to quit at once)");
        interrupt.cancel();
        stop_signal().await;
        // Exiting skips every drop: remove the Docker backend's containers
        // here (a few seconds at most).
        if backend == harness::Backend::Docker {
            let removing = faultlab::env::docker::remove_leftovers();
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), removing).await;
        }
        // The local backend's brokers would die with this process anyway;
        // their data directories would not.
        faultlab::env::local::remove_leftovers();
        std::process::exit(i32::from(INTERRUPTED));
    });
    let outcome = runtime.block_on(harness::run_all(&scenarios, &options));
    // Dropping the runtime stops every broker and proxy still running.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let report = match outcome {
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(if options.interrupt.is_cancelled() { INTERRUPTED } else { FAILED });
        }
        Ok(report) => report,
    };
    let written = finish(&report, &asked);
    if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if report.passed() && written {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

fn bench(args: &faultlab::bench::BenchArgs) -> ExitCode {
    eprintln!("faultlab bench on {}", faultlab::bench::machine());
    match faultlab::bench::run(args, |row| eprintln!("  {}: {} = {}", row.bench, row.measure, row.figure)) {
        Ok(rows) => {
            print!("{}", faultlab::bench::render(&rows, args.markdown));
            println!("machine: {}", faultlab::bench::machine());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

/// The async runtime every long-running command needs; failing to start
/// it is reported, not a panic.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("error: starting the async runtime: {e}");
        ExitCode::from(FAILED)
    })
}
