//! `service-account`: members that are machines and never log in, and their tokens.

use anyhow::anyhow;
use clap::Subcommand;
use serde_json::{Map, Value, json};
use switchboard_domain::identity::{Role, ScopeSet, ServiceAccountId};

use crate::session::Session;

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceAccountCommand {
    /// Create a service account in an organization.
    Create {
        /// The organization's handle.
        #[arg(long)]
        org: String,
        /// A name for the service account (what it is for).
        #[arg(long)]
        name: String,
        /// admin, member or viewer.
        #[arg(long)]
        role: String,
    },
    /// List an organization's service accounts and their live tokens.
    List {
        /// The organization's handle.
        #[arg(long)]
        org: String,
    },
    /// Delete a service account: its tokens fail on their next request.
    Delete {
        /// The organization's handle.
        #[arg(long)]
        org: String,
        /// The service account's id.
        #[arg(long)]
        id: i64,
    },
    /// Manage a service account's tokens.
    #[command(subcommand)]
    Token(ServiceAccountTokenCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceAccountTokenCommand {
    /// Issue a scoped token; it is printed once, alone on the last line.
    Create {
        /// The organization's handle.
        #[arg(long)]
        org: String,
        /// The service account's id.
        #[arg(long)]
        id: i64,
        /// A name for the token (where it is used).
        #[arg(long)]
        name: String,
        /// A scope (repeat for several), e.g. `--scope credentials:use`.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until the token expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

fn organization(
    services: &switchboard_server::Services,
    handle: &str,
) -> anyhow::Result<switchboard_domain::identity::OrgId> {
    services
        .identity
        .organization_id(handle)?
        .ok_or_else(|| anyhow!("no organization has this handle"))
}

pub(crate) fn service_account(
    session: &Session,
    command: ServiceAccountCommand,
) -> anyhow::Result<()> {
    let services = session.services()?;
    let accounts = &services.service_accounts;
    match command {
        ServiceAccountCommand::Create { org, name, role } => {
            let role: Role = role
                .parse()
                .ok()
                .filter(|role| *role != Role::Owner)
                .ok_or_else(|| anyhow!("role must be admin, member or viewer"))?;
            let account = accounts.create_in(organization(&services, &org)?, &name, role)?;
            if session.json {
                Session::print_json(&json!({
                    "id": account.id.0,
                    "name": account.name,
                    "role": account.role.to_string(),
                    "org": org,
                    "created_at": account.created_at.to_rfc3339(),
                }));
                return Ok(());
            }
            println!(
                "created service account {} (id {}, role {}) in {org}",
                account.name, account.id.0, account.role
            );
        }
        ServiceAccountCommand::List { org } => {
            let views = accounts.list_in(organization(&services, &org)?)?;
            if session.json {
                Session::print_json(&Value::Array(
                    views
                        .iter()
                        .map(|view| {
                            json!({
                                "id": view.account.id.0,
                                "name": view.account.name,
                                "role": view.account.role.to_string(),
                                "created_at": view.account.created_at.to_rfc3339(),
                                "tokens": view.tokens.iter().map(|token| json!({
                                    "id": token.id.0, "prefix": token.prefix,
                                })).collect::<Vec<_>>(),
                            })
                        })
                        .collect(),
                ));
                return Ok(());
            }
            println!("id\tname\trole\tcreated_at\ttokens");
            for view in views {
                let tokens: Vec<String> = view
                    .tokens
                    .iter()
                    .map(|token| format!("{}:{}", token.id.0, token.prefix))
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    view.account.id.0,
                    view.account.name,
                    view.account.role,
                    view.account.created_at.to_rfc3339(),
                    tokens.join(",")
                );
            }
        }
        ServiceAccountCommand::Delete { org, id } => {
            accounts.delete_in(organization(&services, &org)?, ServiceAccountId(id))?;
            if session.json {
                Session::print_json(&json!({"deleted": id}));
            } else {
                println!("deleted service account {id}; its tokens are revoked");
            }
        }
        ServiceAccountCommand::Token(ServiceAccountTokenCommand::Create {
            org,
            id,
            name,
            scopes,
            expires_in_days,
        }) => {
            let scopes = ScopeSet::parse_names(scopes.iter().map(String::as_str))
                .map_err(|_| anyhow!("unknown scope; known: {}", ScopeSet::all().to_stored()))?;
            let issued = accounts.issue_token_in(
                organization(&services, &org)?,
                ServiceAccountId(id),
                &name,
                scopes,
                expires_in_days,
            )?;
            let mut holder = Map::new();
            holder.insert("service_account".into(), json!(id));
            holder.insert("scopes".into(), json!(scopes.names()));
            let described = format!("service account {id}, scopes {}", scopes.names().join(","));
            session.print_issued(&issued, holder, &described);
        }
    }
    Ok(())
}
