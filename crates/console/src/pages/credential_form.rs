//! The credential form of a provider configuration, generated from the catalog: one
//! input per catalog field (type, pattern, choices, hint), secret inputs write-only
//! (never filled in, never echoed, and when editing an empty one keeps the stored
//! secret), the form's values turned back into the application's credential input,
//! and the service's messages placed next to their inputs. Used by the create and
//! edit pages and by the rotation form.

use secrecy::SecretString;
use switchboard_domain::shared::{NON_FIELD_ERRORS, ValidationErrors};
use switchboard_domain::telephony::{
    CredentialField, CredentialInput, FieldType, Provider, ProviderConfig, SentValue,
};

use super::field;

/// One input of a configuration form.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) label: String,
    /// `text`, `password`, `url` or `number` (an `<input>`), `select` (one of
    /// `choices`) or `textarea` (a PEM block).
    pub(crate) kind: &'static str,
    /// The catalog's choices (`select` only).
    pub(crate) choices: Vec<String>,
    /// The catalog's pattern, for the browser's own check (the server checks too).
    pub(crate) pattern: String,
    pub(crate) hint: String,
    pub(crate) required: bool,
    pub(crate) secret: bool,
    /// The value to show (never for a secret).
    pub(crate) value: String,
    pub(crate) errors: Vec<String>,
}

impl Input {
    fn plain(name: &str, label: &str, kind: &'static str, hint: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            kind,
            choices: Vec::new(),
            pattern: String::new(),
            hint: hint.to_owned(),
            required: false,
            secret: false,
            value: String::new(),
            errors: Vec::new(),
        }
    }
}

/// The credential inputs of `provider`, from the catalog's `fields` (name, label,
/// type, required, secret, pattern, choices), in the catalog's order. This is the
/// one place that turns the catalog into inputs: a provider with more fields gets
/// more inputs, nothing else changes. Secret inputs are write-only: never filled
/// in, and when editing an empty one keeps the stored secret.
pub(crate) fn credential_inputs(provider: &Provider, editing: bool) -> Vec<Input> {
    provider
        .fields
        .iter()
        .map(|field| credential_input(field, editing))
        .collect()
}

fn credential_input(field: &CredentialField, editing: bool) -> Input {
    let kind = match field.kind {
        FieldType::Enum => "select",
        FieldType::Pem => "textarea",
        FieldType::Integer => "number",
        FieldType::Url if !field.secret => "url",
        _ if field.secret => "password",
        _ => "text",
    };
    let mut hint = match (&field.hint, field.kind) {
        (Some(hint), _) => format!("Looks like {hint}."),
        (None, FieldType::Url) if !field.schemes.is_empty() => {
            format!("A URL ({}).", field.schemes.join(", "))
        }
        (None, FieldType::Pem) => "A PEM block, pasted whole.".to_owned(),
        (None, FieldType::Integer) => match (field.min, field.max) {
            (Some(min), Some(max)) => format!("A whole number from {min} to {max}."),
            _ => "A whole number.".to_owned(),
        },
        (None, _) => String::new(),
    };
    if !field.required {
        hint = format!("Optional. {hint}");
    }
    if field.secret {
        hint = if editing {
            "Leave empty to keep the stored secret. Stored encrypted; never shown again.".to_owned()
        } else {
            format!("{hint} Stored encrypted; never shown again.")
        };
    }
    Input {
        name: field.name.clone(),
        label: field.label.clone(),
        kind,
        choices: field.choices.clone(),
        // The browser anchors a pattern itself; only single-line text takes one.
        pattern: match (kind, &field.pattern) {
            ("text" | "password", Some(pattern)) => html_pattern(pattern),
            _ => String::new(),
        },
        hint: hint.trim().to_owned(),
        // An empty secret input keeps the stored secret when editing.
        required: field.required && !(field.secret && editing),
        secret: field.secret,
        value: String::new(),
        errors: Vec::new(),
    }
}

/// The catalog's pattern as an HTML `pattern` attribute: without its anchors (the
/// browser anchors it), and with the characters that the browser's `v`-flag
/// classes take as syntax escaped inside `[...]` (a literal `-` at a class's edge,
/// and `( ) { } / |`).
fn html_pattern(pattern: &str) -> String {
    let body = pattern.trim_start_matches('^').trim_end_matches('$');
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len() + 8);
    let mut in_class = false;
    let mut index = 0;
    while let Some(&c) = chars.get(index) {
        if c == '\\' {
            out.push(c);
            if let Some(&next) = chars.get(index + 1) {
                out.push(next);
            }
            index += 2;
            continue;
        }
        if in_class {
            let previous = index.checked_sub(1).and_then(|i| chars.get(i)).copied();
            let next = chars.get(index + 1).copied();
            match c {
                ']' => in_class = false,
                '-' if matches!(previous, Some('[' | '^')) || next == Some(']') => {
                    out.push('\\');
                }
                '(' | ')' | '{' | '}' | '/' | '|' => out.push('\\'),
                _ => {}
            }
        } else if c == '[' {
            in_class = true;
        }
        out.push(c);
        index += 1;
    }
    out
}

/// The credential fields of a form as the application takes them: by catalog
/// name, as if sent inside `credentials` (so errors come back under the inputs'
/// names). Empty inputs are not sent; integers go as integers. When `current` is
/// given (an edit), public fields equal to the stored value are left out too.
pub(super) fn credentials_from_form(
    provider: &Provider,
    form: &[(String, String)],
    current: Option<&ProviderConfig>,
) -> CredentialInput {
    let mut input = CredentialInput::new(true);
    for spec in &provider.fields {
        let Some(typed) = field(form, &spec.name).filter(|typed| !typed.trim().is_empty()) else {
            continue;
        };
        let typed = if spec.secret || spec.kind == FieldType::Pem {
            typed.to_owned()
        } else {
            typed.trim().to_owned()
        };
        if !spec.secret
            && let Some(config) = current
            && public_value(config, spec) == typed
        {
            continue;
        }
        let value = match spec.kind {
            FieldType::Integer => typed.parse::<i64>().map_or_else(
                |_| SentValue::Text(SecretString::from(typed)),
                SentValue::Integer,
            ),
            _ => SentValue::Text(SecretString::from(typed)),
        };
        input.push(spec.name.clone(), value);
    }
    input
}

/// The stored value of a public credential field, as text (empty when unset).
pub(super) fn public_value(config: &ProviderConfig, field: &CredentialField) -> String {
    if field.identifier {
        return config.account_sid.clone();
    }
    match config.public_fields.get(&field.name) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Every input of the form for `provider`.
pub(super) fn form_inputs(provider: &Provider, editing: bool) -> Vec<Input> {
    let mut inputs = vec![Input::plain(
        "name",
        "Name",
        "text",
        "Optional: defaults to the provider's name and the last four characters of the identifier.",
    )];
    inputs.extend(credential_inputs(provider, editing));
    inputs.push(Input::plain(
        "base_url",
        "Base URL",
        "url",
        "Optional: https://, wss://, sip: or sips:.",
    ));
    inputs.push(Input::plain(
        "sip_url",
        "SIP URL",
        "text",
        "Optional: https://, wss://, sip: or sips:.",
    ));
    inputs
}

/// Places the service's messages next to their inputs; the rest goes on top.
pub(super) fn place_errors(inputs: &mut [Input], errors: &ValidationErrors) -> Vec<String> {
    let mut general = Vec::new();
    for (name, messages) in errors.fields() {
        match inputs.iter_mut().find(|input| input.name == *name) {
            Some(input) => input.errors.extend(messages.iter().cloned()),
            None if name == NON_FIELD_ERRORS || name == "provider" || name == "active" => {
                general.extend(messages.iter().cloned());
            }
            None => general.extend(messages.iter().map(|message| format!("{name}: {message}"))),
        }
    }
    general
}

/// Puts back what was typed into a refused form, except secrets, whose inputs say
/// why they are empty.
pub(super) fn refill(inputs: &mut [Input], form: &[(String, String)]) {
    for input in inputs {
        if input.secret {
            if field(form, &input.name).is_some_and(|typed| !typed.is_empty()) {
                input.hint = format!("Type it again: secrets are never sent back. {}", input.hint);
            }
        } else {
            input.value = field(form, &input.name).unwrap_or_default().to_owned();
        }
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::html_pattern;

    #[test]
    fn html_patterns_suit_the_browsers_v_flag() {
        assert_eq!(html_pattern("^AC[0-9a-fA-F]{32}$"), "AC[0-9a-fA-F]{32}");
        assert_eq!(
            html_pattern("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$"),
            "[A-Za-z0-9]([A-Za-z0-9.\\-]*[A-Za-z0-9])?"
        );
        assert_eq!(
            html_pattern("^KEY[0-9A-Za-z_-]{20,128}$"),
            "KEY[0-9A-Za-z_\\-]{20,128}"
        );
        assert_eq!(html_pattern("^[ -~]{1,256}$"), "[ -~]{1,256}");
        assert_eq!(html_pattern("^[-a]$"), "[\\-a]");
    }
}
