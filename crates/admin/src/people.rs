//! Organizations, users, memberships and API tokens: `org`, `user`, `member` and
//! `token`.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use switchboard_domain::identity::{Role, TokenId};

use crate::session::{Session, show_time};

#[derive(Debug, Subcommand)]
pub(crate) enum OrgCommand {
    /// Create an organization.
    Create {
        /// Display name (1 to 255 characters).
        #[arg(long)]
        name: String,
        /// The Org-Handle of API calls: lowercase letters, digits and hyphens, 3 to 63
        /// characters.
        #[arg(long)]
        handle: String,
    },
    /// List every organization: id, handle, name, created_at.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user. The password (8 to 1024 characters) is asked for without echo
    /// when standard input is a terminal, else read from one line of standard input;
    /// never from arguments.
    Create {
        /// The user's email (the login name; stored lowercase).
        #[arg(long)]
        email: String,
        /// Read the password from standard input even when it is a terminal (kept for
        /// scripts written for earlier versions; a pipe is always read).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every user: id, email, created_at (never a password hash).
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MemberCommand {
    /// Add a user to an organization (or change the user's role).
    Add {
        /// Handle of the organization.
        #[arg(long)]
        org: String,
        /// Email of an existing user.
        #[arg(long)]
        email: String,
        /// owner, admin, member or viewer.
        #[arg(long)]
        role: String,
    },
    /// List the members of an organization: user id, email, role, since.
    List {
        /// Handle of the organization.
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Issue a token; it is printed once, alone on the last line.
    Create(TokenCreateArgs),
    /// List a user's tokens (never their secrets).
    List {
        /// Email of the user whose tokens to list.
        #[arg(long)]
        email: String,
    },
    /// Revoke a token (and every token it minted): it fails on its next request.
    Revoke {
        /// Id of the token (the first column of `token list`).
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Args)]
pub(crate) struct TokenCreateArgs {
    /// Email of the user the token acts as.
    #[arg(long)]
    email: String,
    /// A name to recognise the token by in listings.
    #[arg(long)]
    name: String,
    /// Days until the token expires (1 to 36500); without it the token never
    /// expires.
    #[arg(
        long,
        value_name = "DAYS",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u32).range(1..=36500)
    )]
    expires_in_days: Option<u32>,
}

pub(crate) fn org(session: &Session, command: OrgCommand) -> anyhow::Result<()> {
    let services = session.services()?;
    match command {
        OrgCommand::Create { name, handle } => {
            let organization = services.identity.create_organization(&name, &handle)?;
            if session.json {
                Session::print_json(&json!({
                    "id": organization.id.0,
                    "name": organization.name,
                    "handle": organization.domain_handle.as_str(),
                    "created_at": organization.created_at.to_rfc3339(),
                }));
            } else {
                println!(
                    "created organization {} (id {}, handle {})",
                    organization.name, organization.id.0, organization.domain_handle
                );
            }
        }
        OrgCommand::List => {
            let organizations = services.identity.list_organizations()?;
            if session.json {
                Session::print_json(&Value::Array(
                    organizations
                        .iter()
                        .map(|organization| {
                            json!({
                                "id": organization.id.0,
                                "handle": organization.domain_handle.as_str(),
                                "name": organization.name,
                                "created_at": organization.created_at.to_rfc3339(),
                            })
                        })
                        .collect(),
                ));
            } else {
                println!("id\thandle\tname\tcreated_at");
                for organization in organizations {
                    println!(
                        "{}\t{}\t{}\t{}",
                        organization.id.0,
                        organization.domain_handle,
                        organization.name,
                        organization.created_at.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn user(session: &Session, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            email,
            password_stdin,
        } => {
            // Checked before the password is asked for: a wrong folder is said first.
            let services = session.services()?;
            let password = read_password(password_stdin)?;
            let user = services.identity.create_user(&email, &password)?;
            let email = email.trim().to_lowercase();
            if session.json {
                Session::print_json(&json!({"id": user.0, "email": email}));
            } else {
                println!("created user {email} (id {})", user.0);
            }
        }
        UserCommand::List => {
            let users = session.services()?.identity.list_users()?;
            if session.json {
                Session::print_json(&Value::Array(
                    users
                        .iter()
                        .map(|user| {
                            json!({
                                "id": user.id.0,
                                "email": user.email,
                                "created_at": user.created_at.to_rfc3339(),
                            })
                        })
                        .collect(),
                ));
            } else {
                println!("id\temail\tcreated_at");
                for user in users {
                    println!(
                        "{}\t{}\t{}",
                        user.id.0,
                        user.email,
                        user.created_at.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn member(session: &Session, command: MemberCommand) -> anyhow::Result<()> {
    match command {
        MemberCommand::Add { org, email, role } => {
            let role: Role = role
                .parse()
                .map_err(|()| anyhow!("role must be owner, admin, member or viewer"))?;
            let services = session.services()?;
            services.identity.add_member(&org, &email, role)?;
            let email = email.trim().to_lowercase();
            if session.json {
                Session::print_json(&json!({"org": org, "email": email, "role": role.as_str()}));
            } else {
                println!("{email} is now {role} of {org}");
            }
        }
        MemberCommand::List { org } => {
            let members = session.services()?.identity.list_members(&org)?;
            if session.json {
                Session::print_json(&Value::Array(
                    members
                        .iter()
                        .map(|member| {
                            json!({
                                "user_id": member.user_id.0,
                                "email": member.email,
                                "role": member.role.as_str(),
                                "since": member.since.to_rfc3339(),
                            })
                        })
                        .collect(),
                ));
            } else {
                println!("user_id\temail\trole\tsince");
                for member in members {
                    println!(
                        "{}\t{}\t{}\t{}",
                        member.user_id.0,
                        member.email,
                        member.role,
                        member.since.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn token(session: &Session, command: TokenCommand) -> anyhow::Result<()> {
    let services = session.services()?;
    match command {
        TokenCommand::Create(args) => {
            let issued =
                services
                    .identity
                    .issue_token(&args.email, &args.name, args.expires_in_days)?;
            let mut holder = Map::new();
            holder.insert("email".into(), json!(args.email.trim().to_lowercase()));
            session.print_issued(&issued, holder, &args.email);
        }
        TokenCommand::List { email } => {
            let tokens = services.identity.list_tokens(&email)?;
            if session.json {
                Session::print_json(&Value::Array(
                    tokens
                        .iter()
                        .map(|token| {
                            json!({
                                "id": token.id.0,
                                "name": token.name,
                                "prefix": token.prefix,
                                "kind": token.kind.as_str(),
                                "created_at": token.created_at.to_rfc3339(),
                                "last_used_at": token.last_used_at.map(|at| at.to_rfc3339()),
                                "expires_at": token.expires_at.map(|at| at.to_rfc3339()),
                                "revoked_at": token.revoked_at.map(|at| at.to_rfc3339()),
                            })
                        })
                        .collect(),
                ));
                return Ok(());
            }
            println!("id\tname\tprefix\tcreated_at\tlast_used_at\texpires_at\trevoked_at");
            for token in tokens {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    token.id.0,
                    token.name,
                    token.prefix,
                    token.created_at.to_rfc3339(),
                    show_time(token.last_used_at),
                    show_time(token.expires_at),
                    show_time(token.revoked_at)
                );
            }
        }
        TokenCommand::Revoke { id } => {
            services.identity.revoke_token(TokenId(id))?;
            if session.json {
                Session::print_json(&json!({"revoked": id}));
            } else {
                println!("revoked token {id}");
            }
        }
    }
    Ok(())
}

/// The password: asked for twice without echo when standard input is a terminal
/// (unless `--password-stdin` insists), else one line of standard input without its
/// line ending.
fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if !from_stdin && std::io::stdin().is_terminal() {
        let first = SecretString::from(
            rpassword::prompt_password("Password (8 characters or more, not echoed): ")
                .context("cannot read the password from the terminal")?,
        );
        let again = SecretString::from(
            rpassword::prompt_password("Password again: ")
                .context("cannot read the password from the terminal")?,
        );
        if first.expose_secret() != again.expose_secret() {
            return Err(anyhow!("the two passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    line.clear();
    Ok(SecretString::from(password))
}
