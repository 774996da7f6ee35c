//! Command-line interface (clap derive). One subcommand per file in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit status:
  0  success (for scan: every message delivered or tagged)
  1  scan: at least one message was quarantined or rejected; config check: invalid
  2  an error occurred (unreadable input, unparsable message, bad arguments or config)";

/// spearguard: an email security gateway that explains its verdicts.
#[derive(Debug, Parser)]
#[command(name = "spearguard", version, about, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// Configuration file (default: built-in defaults, or $SPEARGUARD_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Log format on stderr; the level comes from RUST_LOG (default: info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the gateway: SMTP relay (default 127.0.0.1:2525), spool, delivery to Maildirs.
    Serve(ServeArgs),
    /// Review quarantined messages: list, show, release (deliver once) or delete them.
    Quarantine(QuarantineArgs),
    /// The message log: what the gateway decided, newest first (readable while serve runs).
    Messages(MessagesArgs),
    /// Analyse .eml files, directories, mbox files and Maildir folders; one line per message.
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// List every signal: name, group, default and effective score, description.
    Signals(SignalsArgs),
    /// Print the commented default config, validate a file, or show the effective config.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Measure detection on labelled mail: share blocked per class and a signal table.
    Eval(EvalArgs),
    /// Train the statistical classifier on labelled mail and write a model file.
    Train(TrainArgs),
    /// Measure throughput: parse-only versus full analysis, on one thread.
    Bench(BenchArgs),
    /// The staff directory: import a CSV or LDIF file into the store, list the stored copy.
    Directory(DirectoryArgs),
}

/// Options shared by commands that build the engine.
#[derive(Debug, Clone, Args)]
pub(crate) struct EngineArgs {
    /// Classifier model file (overrides `[analysers.classifier] model`).
    #[arg(long, value_name = "MODEL")]
    pub(crate) model: Option<PathBuf>,
    /// Run only these analysers (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub(crate) only: Vec<String>,
}

/// `spearguard serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Folder for spool, quarantine and mailboxes (overrides `[gateway] data_dir`).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// SMTP listen address (overrides `[smtp_server] listen`); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub(crate) smtp_listen: Option<std::net::SocketAddr>,
    /// Milter listen address (overrides `[milter_server] listen`); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub(crate) milter_listen: Option<std::net::SocketAddr>,
    /// HTTP API, health and metrics address (overrides `[http] listen`); port 0 allowed.
    #[arg(long, value_name = "ADDR")]
    pub(crate) http_listen: Option<std::net::SocketAddr>,
    /// Next hop for accepted mail, HOST:PORT (overrides `[gateway] relay`; "" = local Maildirs).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) relay: Option<String>,
    /// DNS server for SPF/DKIM/DMARC as IP:PORT (overrides `[auth] resolver`).
    #[arg(long, value_name = "ADDR")]
    pub(crate) resolver: Option<std::net::SocketAddr>,
    /// Engine options.
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

/// `spearguard quarantine`.
#[derive(Debug, Args)]
pub(crate) struct QuarantineArgs {
    /// The gateway's data folder (overrides `[gateway] data_dir`). `serve` must not be
    /// running: it holds the spool's lock.
    #[arg(long, value_name = "DIR", global = true)]
    pub(crate) data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: QuarantineAction,
}

/// `spearguard quarantine …`.
#[derive(Debug, Subcommand)]
pub(crate) enum QuarantineAction {
    /// One line per quarantined message (id, arrival, sender, recipients, verdict, score).
    List {
        /// JSON lines instead.
        #[arg(long)]
        json: bool,
    },
    /// The stored verdict and the whole message.
    Show {
        /// Queue id.
        id: String,
    },
    /// Deliver the message to its recipients (once) and take it out of quarantine.
    Release {
        /// Queue id.
        id: String,
    },
    /// Remove the message for good.
    Delete {
        /// Queue id.
        id: String,
    },
}

/// `spearguard messages`.
#[derive(Debug, Args)]
pub(crate) struct MessagesArgs {
    /// The gateway's data folder (overrides `[gateway] data_dir`).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Only this verdict (deliver, tag, quarantine, reject).
    #[arg(long, value_name = "VERDICT")]
    pub(crate) verdict: Option<String>,
    /// Only messages received at or after this Unix time.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub(crate) since: Option<i64>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: u32,
    /// JSON lines instead of tab-separated text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `spearguard scan`.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files or folders to scan; `-` reads one message from standard input.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// One JSON object per message instead of a text line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Staff directory file, CSV or LDIF (*.ldif), for this scan (overrides
    /// `[organisation] directory`).
    #[arg(long, value_name = "FILE")]
    pub(crate) directory: Option<PathBuf>,
    /// Keep cross-message state (history, campaigns, alarms) in this SQLite file between
    /// messages and runs; messages are then scanned one at a time, in the order given, each
    /// at the time of its topmost Received header. JSON gains `campaign`, `clawback`, `alerts`.
    #[arg(long, value_name = "DB")]
    pub(crate) state: Option<PathBuf>,
    /// Engine options.
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

/// `spearguard signals`.
#[derive(Debug, Args)]
pub(crate) struct SignalsArgs {
    /// JSON array instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `spearguard config …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the commented default configuration.
    Default,
    /// Validate a config file (default: --config), reporting every error at once.
    Check {
        /// The file to check.
        file: Option<PathBuf>,
    },
    /// Print the effective configuration (defaults merged with --config) as TOML.
    Show,
}

/// Labelled input folders for `eval` and `train`.
#[derive(Debug, Clone, Args)]
pub(crate) struct LabelledArgs {
    /// Folders (or files) of malicious mail.
    #[arg(long, required = true, num_args = 1.., value_name = "DIR")]
    pub(crate) malicious: Vec<PathBuf>,
    /// Folders (or files) of legitimate mail.
    #[arg(long, required = true, num_args = 1.., value_name = "DIR")]
    pub(crate) benign: Vec<PathBuf>,
}

/// `spearguard eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// Labelled inputs.
    #[command(flatten)]
    pub(crate) labelled: LabelledArgs,
    /// Folders of spam: reported as a third class, not used for the bars.
    #[arg(long, num_args = 1.., value_name = "DIR")]
    pub(crate) spam: Vec<PathBuf>,
    /// Cross-validate the classifier: train on K-1 folds, evaluate on the held-out one, for
    /// each of K folds (the model from --model/config is then not used).
    #[arg(long, value_name = "K")]
    pub(crate) folds: Option<usize>,
    /// One JSON object instead of tables.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also write every message's result (source, class, verdict, score, signals) as JSON
    /// lines to this file, for analysing misses and false positives.
    #[arg(long, value_name = "FILE")]
    pub(crate) results: Option<std::path::PathBuf>,
    /// Engine options.
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

/// `spearguard train`.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// Labelled inputs.
    #[command(flatten)]
    pub(crate) labelled: LabelledArgs,
    /// Where to write the model.
    #[arg(long, value_name = "MODEL")]
    pub(crate) out: PathBuf,
    /// Passes over the data.
    #[arg(long, default_value_t = 3)]
    pub(crate) epochs: usize,
}

/// `spearguard bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Messages to measure (folders, files, mbox).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Passes over the messages for each measurement.
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
    /// JSON output.
    #[arg(long)]
    pub(crate) json: bool,
    /// Engine options.
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

/// `spearguard directory`.
#[derive(Debug, Args)]
pub(crate) struct DirectoryArgs {
    /// The gateway's data folder (overrides `[gateway] data_dir`).
    #[arg(long, value_name = "DIR", global = true)]
    pub(crate) data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: DirectoryAction,
}

/// `spearguard directory …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryAction {
    /// Replace the stored directory with FILE, all or nothing (every bad line is reported).
    /// `serve` uses the stored copy unless `[organisation] directory` names a file.
    Import {
        /// CSV with the header address,name,department,published, or LDIF.
        file: PathBuf,
        /// File format (default: LDIF for *.ldif, CSV otherwise).
        #[arg(long, value_enum)]
        format: Option<DirectoryFormat>,
        /// LDIF: the attribute holding the published flag (default: every entry published).
        #[arg(long, value_name = "ATTR")]
        published_attribute: Option<String>,
        /// Print the counts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The stored directory: address, published or undisclosed, name, department.
    List {
        /// JSON lines instead.
        #[arg(long)]
        json: bool,
    },
}

/// `directory import --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DirectoryFormat {
    /// address,name,department,published
    Csv,
    /// LDIF content records (RFC 2849).
    Ldif,
}
