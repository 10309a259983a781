//! `hoshu audit verify`: exit 0 when the chain is intact, 1 naming the first bad event.

use std::process::ExitCode;

use hoshu_storage::{AuditVerification, Store};

pub async fn verify(store: &Store) -> anyhow::Result<ExitCode> {
    match store.verify_audit().await? {
        AuditVerification::Intact { events } => {
            println!("audit chain intact: {events} events");
            Ok(ExitCode::SUCCESS)
        }
        AuditVerification::Broken(chain_break) => {
            println!("{chain_break}");
            eprintln!("error: {chain_break}");
            Ok(ExitCode::FAILURE)
        }
    }
}
