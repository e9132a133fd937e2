//! The faultlab command: parse, call the library, map the outcome to an exit code.
//!
//! Exit codes: 0 every required expectation held; 1 one did not, or a
//! scenario could not be run; 2 usage or scenario-file error; 130 interrupted.

use std::process::ExitCode;

use clap::Parser;
use faultlab::cli::{Cli, Command, RunArgs};
use faultlab::harness::{self, Options};
use faultlab::report::{json, outputs, terminal};
use faultlab::scenario::{self, Scenario};

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
    logging(&cli.command);
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            // The one place errors are printed: usage and scenario-file
            // errors exit 2, anything else 1.
            match error.downcast_ref::<Usage>() {
                Some(Usage(errors)) => errors.iter().for_each(|e| eprintln!("error: {e}")),
                None => eprintln!("error: {error:#}"),
            }
            ExitCode::from(if error.is::<Usage>() {
                USAGE
            } else if error.is::<Interrupted>() {
                INTERRUPTED
            } else {
                FAILED
            })
        }
    }
}

/// What the user asked for cannot be done as asked (a flag, a scenario
/// file, a saved report): exit 2, each message on its own line.
#[derive(Debug)]
struct Usage(Vec<String>);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl std::error::Error for Usage {}

/// A run that failed after Ctrl-C: exit 130 (context on its error).
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

fn usage(message: impl std::fmt::Display) -> anyhow::Error {
    Usage(vec![message.to_string()]).into()
}

fn logging(command: &Command) {
    let quiet = match command {
        Command::Run(_) => format!("{QUIET}{QUIET_RUN}"),
        _ => QUIET.to_string(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| quiet.into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Validate { paths } => validate(&paths),
        Command::List { paths } => list(&paths),
        Command::Run(args) => run_scenarios(args),
        Command::Bench(args) => bench(&args),
        Command::Proxy { listen, seed, kafka, kafka_listen } => proxy(listen, seed, kafka, &kafka_listen),
        Command::Serve(args) => serve(args),
        Command::Up(args) => up(args),
        Command::Report { runs, compare, outputs } => report(&runs, compare, &outputs.outputs()),
    }
}

/// Every scenario of `paths`, or every file's error (a usage error).
fn load_all(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<Scenario>> {
    let files = scenario::collect(paths).map_err(usage)?;
    let (mut loaded, mut errors) = (Vec::new(), Vec::new());
    for file in files {
        match scenario::load(&file) {
            Ok(s) => loaded.push(s),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(loaded) } else { Err(Usage(errors).into()) }
}

fn validate(paths: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    for s in load_all(paths)? {
        println!("ok  {} ({})", s.source.display(), s.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn list(paths: &[std::path::PathBuf]) -> anyhow::Result<ExitCode> {
    let scenarios = load_all(paths)?;
    let width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &scenarios {
        let first_line = s.description.lines().next().unwrap_or("");
        println!("{:width$}  {first_line}", s.name);
    }
    Ok(ExitCode::SUCCESS)
}

fn report(runs: &[std::path::PathBuf], compare: bool, asked: &outputs::Outputs) -> anyhow::Result<ExitCode> {
    outputs::check(asked).map_err(|e| usage(format!("{e:#}")))?;
    let mut loaded = Vec::new();
    for path in runs {
        loaded.push(json::read(path).map_err(|e| usage(format!("{e:#}")))?);
    }
    if compare {
        let [before, after] = loaded.as_slice() else {
            return Err(usage(format!("--compare takes exactly two saved runs (got {})", loaded.len())));
        };
        print!("{}", faultlab::report::compare::render(before, after));
        return Ok(ExitCode::SUCCESS);
    }
    // Several saved runs render as one report, scenarios in the order given.
    let mut merged = loaded.remove(0);
    for more in loaded {
        merged.interrupted |= more.interrupted;
        merged.scenarios.extend(more.scenarios);
    }
    Ok(if finish(&merged, asked) { ExitCode::SUCCESS } else { ExitCode::from(FAILED) })
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

fn proxy(listen: std::net::SocketAddr, seed: u64, kafka: Option<String>, kafka_listen: &str) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
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
    })?;
    Ok(ExitCode::SUCCESS)
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

fn serve(args: faultlab::cli::ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.into_config().map_err(usage)?;
    let account = runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| {
            anyhow::anyhow!("listening on {}: {e} (choose another address with --listen or FAULTLAB_LISTEN)", config.listen)
        })?;
        let stop = stop_signal();
        eprintln!(
            "faultlab serve: http://{} producing to {} (SIGINT or SIGTERM stops it after flushing)",
            listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| config.listen.to_string()),
            config.bootstrap_servers
        );
        faultlab::serve::serve_accounted(config, listener, stop).await
    })?;
    if account.not_delivered() > 0 {
        anyhow::bail!(
            "{} of {} accepted messages were not delivered ({}); each has a log line with its requestId and eventId (those settled before the shutdown at info level)",
            account.not_delivered(),
            account.accepted(),
            account.summary()
        );
    }
    eprintln!("faultlab serve: stopped; all {} accepted messages delivered ({})", account.accepted(), account.summary());
    Ok(ExitCode::SUCCESS)
}

fn up(args: faultlab::cli::UpArgs) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    let outcome = runtime.block_on(async {
        let up = faultlab::up::start(&args.config()).await?;
        let stop = stop_signal();
        print!("{}", up.instructions());
        up.serve(stop).await
    });
    // The broker's tasks end with the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    outcome?;
    eprintln!("faultlab up: stopped");
    Ok(ExitCode::SUCCESS)
}

/// `faultlab run`: 0 when every required expectation held and every report
/// file was written, 1 otherwise, 130 when interrupted.
fn run_scenarios(args: RunArgs) -> anyhow::Result<ExitCode> {
    let scenarios = load_all(&args.paths)?;
    // Before anything starts: a run never finds at its end that it has
    // nowhere to put its reports.
    let asked = args.outputs.outputs();
    outputs::check(&asked).map_err(|e| usage(format!("{e:#}")))?;
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
    harness::check_backend(&scenarios, &options).map_err(usage)?;
    let runtime = runtime()?;
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
        // Exiting skips every drop.
        faultlab::env::remove_leftovers(backend).await;
        std::process::exit(i32::from(INTERRUPTED));
    });
    let outcome = runtime.block_on(harness::run_all(&scenarios, &options));
    // Dropping the runtime stops every broker and proxy still running.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let report = match outcome {
        Err(e) if options.interrupt.is_cancelled() => return Err(e.context(Interrupted)),
        outcome => outcome?,
    };
    let written = finish(&report, &asked);
    Ok(if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if report.passed() && written {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    })
}

fn bench(args: &faultlab::cli::BenchArgs) -> anyhow::Result<ExitCode> {
    eprintln!("faultlab bench on {}", faultlab::bench::machine());
    let rows = faultlab::bench::run(&args.config(), |row| eprintln!("  {}: {} = {}", row.bench, row.measure, row.figure))?;
    print!("{}", faultlab::bench::render(&rows, args.markdown));
    println!("machine: {}", faultlab::bench::machine());
    Ok(ExitCode::SUCCESS)
}

/// The async runtime every long-running command needs.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))
}
