//! `sqlite-limit`: the SQLite side of the load benchmark's database limit.
//!
//! It runs the statements one request of an endpoint executes, as fast as one
//! connection allows, for a given time, and prints the transactions per second as
//! one JSON line. The statements come from the same kind of script pgbench runs for
//! PostgreSQL (`scripts/bench/sql/sqlite/<endpoint>.sql`): SQL commands ending in
//! `;`, `:name` parameters, `-D name=value` variables and `\set name random(a, b)`.
//! Every statement is prepared once (Diesel's statement cache, as in the server),
//! every row is stepped and every column's value fetched, as a client would; nothing
//! is converted into application types. `BEGIN` and `COMMIT` run as Diesel's
//! transaction manager runs them in the server (unprepared, `sqlite3_exec`). The connection gets the server's
//! per-connection pragmas. This binary knows nothing of the schema.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use diesel::connection::{LoadConnection, SimpleConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Binary, Text, Untyped};
use diesel::sqlite::{Sqlite, SqliteType};
use diesel::{Connection, QueryResult, SqliteConnection};
use rand::Rng;

/// A bound value; the kind is inferred from the text as pgbench's would be by the
/// server: integers, booleans (SQLite stores them as 0/1), `\x` hex as a blob, else
/// text.
#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    Blob(Vec<u8>),
    Text(String),
}

impl Value {
    fn parse(text: &str) -> Result<Self, String> {
        if let Ok(number) = text.parse::<i64>() {
            return Ok(Self::Int(number));
        }
        match text {
            "true" => return Ok(Self::Int(1)),
            "false" => return Ok(Self::Int(0)),
            _ => {}
        }
        if let Some(hex) = text.strip_prefix("\\x") {
            return decode_hex(hex)
                .map(Self::Blob)
                .ok_or_else(|| "a \\x value must hold an even number of hex digits".to_owned());
        }
        Ok(Self::Text(text.to_owned()))
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One operand of `random(a, b)`.
#[derive(Debug, Clone)]
enum Operand {
    Literal(i64),
    Variable(String),
}

/// One line of the script.
#[derive(Debug, Clone)]
enum Command {
    /// `\set name random(low, high)`
    Random {
        name: String,
        low: Operand,
        high: Operand,
    },
    /// `BEGIN [IMMEDIATE]`, `COMMIT` or `ROLLBACK`: run unprepared, as Diesel's
    /// transaction manager does.
    Transaction(String),
    /// A statement: SQL pieces around its parameters, the parameters' names, and its
    /// position among the script's distinct statements (set by `parse_script`).
    Sql {
        pieces: Vec<String>,
        params: Vec<String>,
        position: usize,
    },
}

/// The most distinct statements a script may hold.
const MAX_STATEMENTS: usize = 16;

/// A statement with its values, ready to run. Its position (among the script's
/// distinct statements) is its static query id, so Diesel finds the prepared
/// statement by type, as it does for the server's (static) queries, without rendering
/// the SQL again; a statement the script repeats shares one prepared statement, as
/// the server's repeated query does.
struct Bound<'a, const POSITION: usize> {
    pieces: &'a [String],
    values: Vec<Value>,
}

/// The static query id of the statement at `POSITION`.
struct Position<const POSITION: usize>;

impl<const POSITION: usize> QueryId for Bound<'_, POSITION> {
    type QueryId = Position<POSITION>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const POSITION: usize> Query for Bound<'_, POSITION> {
    type SqlType = Untyped;
}

impl<const POSITION: usize> QueryFragment<Sqlite> for Bound<'_, POSITION> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        for (index, piece) in self.pieces.iter().enumerate() {
            out.push_sql(piece);
            if let Some(value) = self.values.get(index) {
                match value {
                    Value::Int(number) => out.push_bind_param::<BigInt, i64>(number)?,
                    Value::Blob(bytes) => out.push_bind_param::<Binary, Vec<u8>>(bytes)?,
                    Value::Text(text) => out.push_bind_param::<Text, String>(text)?,
                }
            }
        }
        Ok(())
    }
}

fn parse_operand(text: &str) -> Result<Operand, String> {
    let text = text.trim();
    match text.strip_prefix(':') {
        Some(name) => Ok(Operand::Variable(name.to_owned())),
        None => text
            .parse()
            .map(Operand::Literal)
            .map_err(|_| format!("not an integer or :variable: {text}")),
    }
}

fn parse_set(line: &str) -> Result<Command, String> {
    let rest = line.trim_start_matches("\\set").trim();
    let (name, expression) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("cannot read: {line}"))?;
    let arguments = expression
        .trim()
        .strip_prefix("random(")
        .and_then(|inner| inner.strip_suffix(')'))
        .ok_or_else(|| format!("only random(a, b) is supported: {line}"))?;
    let (low, high) = arguments
        .split_once(',')
        .ok_or_else(|| format!("random needs two arguments: {line}"))?;
    Ok(Command::Random {
        name: name.to_owned(),
        low: parse_operand(low)?,
        high: parse_operand(high)?,
    })
}

/// Splits SQL at its `:name` parameters (a `::` cast is left alone).
fn parse_sql(sql: &str) -> Command {
    if matches!(
        sql.to_ascii_uppercase().as_str(),
        "BEGIN" | "BEGIN IMMEDIATE" | "COMMIT" | "ROLLBACK"
    ) {
        return Command::Transaction(sql.to_owned());
    }
    let mut pieces = Vec::new();
    let mut params = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' {
            if chars.peek() == Some(&':') {
                current.push_str("::");
                chars.next();
                continue;
            }
            if chars
                .peek()
                .is_some_and(|next| next.is_ascii_alphabetic() || *next == '_')
            {
                let mut name = String::new();
                while let Some(next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || *next == '_' {
                        name.push(*next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                pieces.push(std::mem::take(&mut current));
                params.push(name);
                continue;
            }
        }
        current.push(c);
    }
    pieces.push(current);
    Command::Sql {
        pieces,
        params,
        position: 0,
    }
}

fn parse_script(text: &str) -> Result<Vec<Command>, String> {
    let mut commands = Vec::new();
    let mut statement = String::new();
    // The SQL of each distinct statement, `?` for its parameters, by position.
    let mut distinct: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if statement.is_empty() && (trimmed.is_empty() || trimmed.starts_with("--")) {
            continue;
        }
        if statement.is_empty() && trimmed.starts_with('\\') {
            commands.push(parse_set(trimmed)?);
            continue;
        }
        if !statement.is_empty() {
            statement.push(' ');
        }
        statement.push_str(trimmed);
        if let Some(sql) = statement.strip_suffix(';') {
            let mut command = parse_sql(sql.trim());
            if let Command::Sql {
                pieces, position, ..
            } = &mut command
            {
                let text = pieces.join("?");
                *position = match distinct.iter().position(|seen| *seen == text) {
                    Some(index) => index,
                    None => {
                        distinct.push(text);
                        distinct.len() - 1
                    }
                };
                if *position >= MAX_STATEMENTS {
                    return Err(format!(
                        "a script holds at most {MAX_STATEMENTS} distinct statements"
                    ));
                }
            }
            commands.push(command);
            statement.clear();
        }
    }
    if !statement.trim().is_empty() {
        return Err("the last statement does not end with ;".into());
    }
    Ok(commands)
}

struct Options {
    database: String,
    script: String,
    seconds: f64,
    variables: HashMap<String, String>,
}

fn options() -> Result<Options, String> {
    let mut database = None;
    let mut script = None;
    let mut seconds = 10.0;
    let mut variables = HashMap::new();
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let mut value = || {
            arguments
                .next()
                .ok_or_else(|| format!("{argument} needs a value"))
        };
        match argument.as_str() {
            "--db" => database = Some(value()?),
            "--script" => script = Some(value()?),
            "--seconds" => {
                seconds = value()?
                    .parse()
                    .map_err(|_| "--seconds needs a number".to_owned())?;
            }
            "-D" => {
                let pair = value()?;
                let (name, text) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("-D needs name=value, got {pair}"))?;
                variables.insert(name.to_owned(), text.to_owned());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Options {
        database: database.ok_or("--db is required")?,
        script: script.ok_or("--script is required")?,
        seconds,
        variables,
    })
}

fn operand(operand: &Operand, variables: &HashMap<String, String>) -> Result<i64, String> {
    match operand {
        Operand::Literal(number) => Ok(*number),
        Operand::Variable(name) => variables
            .get(name)
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| format!("variable :{name} is not an integer")),
    }
}

/// Runs the statement at `position` of the script.
fn run_statement(
    connection: &mut SqliteConnection,
    position: usize,
    pieces: &[String],
    values: Vec<Value>,
) -> Result<usize, String> {
    match position {
        0 => fetch_all(connection, Bound::<0> { pieces, values }),
        1 => fetch_all(connection, Bound::<1> { pieces, values }),
        2 => fetch_all(connection, Bound::<2> { pieces, values }),
        3 => fetch_all(connection, Bound::<3> { pieces, values }),
        4 => fetch_all(connection, Bound::<4> { pieces, values }),
        5 => fetch_all(connection, Bound::<5> { pieces, values }),
        6 => fetch_all(connection, Bound::<6> { pieces, values }),
        7 => fetch_all(connection, Bound::<7> { pieces, values }),
        8 => fetch_all(connection, Bound::<8> { pieces, values }),
        9 => fetch_all(connection, Bound::<9> { pieces, values }),
        10 => fetch_all(connection, Bound::<10> { pieces, values }),
        11 => fetch_all(connection, Bound::<11> { pieces, values }),
        12 => fetch_all(connection, Bound::<12> { pieces, values }),
        13 => fetch_all(connection, Bound::<13> { pieces, values }),
        14 => fetch_all(connection, Bound::<14> { pieces, values }),
        15 => fetch_all(connection, Bound::<15> { pieces, values }),
        _ => Err(format!(
            "a script holds at most {MAX_STATEMENTS} distinct statements"
        )),
    }
}

/// Steps every row and fetches every column's value.
fn fetch_all<const POSITION: usize>(
    connection: &mut SqliteConnection,
    query: Bound<'_, POSITION>,
) -> Result<usize, String> {
    let rows = LoadConnection::load(connection, query).map_err(|error| error.to_string())?;
    let mut fetched = 0;
    for row in rows {
        let row = row.map_err(|error| error.to_string())?;
        for index in 0..row.field_count() {
            let Some(field) = row.get(index) else {
                continue;
            };
            if let Some(mut value) = field.value() {
                fetched += match value.value_type() {
                    Some(SqliteType::Text) => value.read_text().len(),
                    Some(SqliteType::Binary) => value.read_blob().len(),
                    Some(SqliteType::Double) => usize::from(value.read_double() != 0.0),
                    _ => usize::from(value.read_long() != 0),
                };
            }
        }
    }
    Ok(fetched)
}

fn run() -> Result<(), String> {
    let options = options()?;
    let text = std::fs::read_to_string(&options.script)
        .map_err(|error| format!("cannot read {}: {error}", options.script))?;
    let commands = parse_script(&text)?;
    let mut connection =
        SqliteConnection::establish(&options.database).map_err(|error| error.to_string())?;
    // The server's per-connection settings (journal_mode=WAL is the file's already).
    connection
        .batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
             PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;",
        )
        .map_err(|error| error.to_string())?;
    let mut rng = rand::rng();
    let mut variables = options.variables.clone();
    let budget = Duration::from_secs_f64(options.seconds);
    let started = Instant::now();
    let mut transactions: u64 = 0;
    let mut fetched: usize = 0;
    while started.elapsed() < budget {
        for command in &commands {
            match command {
                Command::Random { name, low, high } => {
                    let (low, high) = (operand(low, &variables)?, operand(high, &variables)?);
                    let value = rng.random_range(low..=high.max(low));
                    variables.insert(name.clone(), value.to_string());
                }
                Command::Transaction(sql) => connection
                    .batch_execute(sql)
                    .map_err(|error| format!("{sql}: {error}"))?,
                Command::Sql {
                    pieces,
                    params,
                    position,
                } => {
                    let values = params
                        .iter()
                        .map(|name| {
                            variables
                                .get(name)
                                .ok_or_else(|| format!("variable :{name} is not set"))
                                .and_then(|text| Value::parse(text))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let rows = run_statement(&mut connection, *position, pieces, values).map_err(
                        |error| {
                            let sql = pieces.join("?");
                            let start: String = sql.chars().take(80).collect();
                            format!("{start}...: {error}")
                        },
                    )?;
                    fetched = fetched.wrapping_add(rows);
                }
            }
        }
        transactions += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    #[expect(
        clippy::cast_precision_loss,
        reason = "a rate for a report; exact below 2^53 transactions"
    )]
    let tps = transactions as f64 / elapsed;
    println!(
        "{{\"tps\": {tps:.1}, \"transactions\": {transactions}, \"seconds\": {elapsed:.3}, \"bytes_fetched\": {fetched}}}"
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sqlite-limit: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_split_into_commands_and_parameters() {
        let commands = parse_script(
            "-- a comment\n\\set id random(1, :max)\nSELECT a::text FROM t\n WHERE id = :id AND b = :b;\n",
        )
        .expect("parses");
        assert_eq!(commands.len(), 2);
        assert!(matches!(
            parse_script("BEGIN;\nCOMMIT;\n").expect("parses").as_slice(),
            [Command::Transaction(begin), Command::Transaction(commit)] if begin == "BEGIN" && commit == "COMMIT"
        ));
        match &commands[1] {
            Command::Sql { pieces, params, .. } => {
                assert_eq!(params, &["id", "b"]);
                assert_eq!(
                    pieces.join("?"),
                    "SELECT a::text FROM t WHERE id = ? AND b = ?"
                );
            }
            other => panic!("expected SQL, got {other:?}"),
        }
    }

    #[test]
    fn a_repeated_statement_shares_its_position() {
        let commands = parse_script(
            "SELECT a FROM t WHERE id = :id;\nBEGIN IMMEDIATE;\nSELECT b FROM t WHERE id = :x;\nSELECT a FROM t WHERE id = :other;\nCOMMIT;\n",
        )
        .expect("parses");
        let positions: Vec<usize> = commands
            .iter()
            .filter_map(|command| match command {
                Command::Sql { position, .. } => Some(*position),
                _ => None,
            })
            .collect();
        assert_eq!(positions, [0, 1, 0]);
    }

    #[test]
    fn values_are_typed_like_the_server_binds_them() {
        assert!(matches!(Value::parse("42"), Ok(Value::Int(42))));
        assert!(matches!(Value::parse("true"), Ok(Value::Int(1))));
        assert!(matches!(Value::parse("\\x01ff"), Ok(Value::Blob(bytes)) if bytes == [1, 255]));
        assert!(Value::parse("\\x01f").is_err());
        assert!(matches!(Value::parse("acme"), Ok(Value::Text(text)) if text == "acme"));
    }
}
