//! `#[engines]`: an integration test written once, run once per database engine.
//!
//! ```ignore
//! #[engines]
//! async fn a_contact_is_created(k: Kind) {
//!     let app = TestApp::spawn(k).await;
//!     …
//! }
//! ```
//!
//! becomes the async function itself plus a module of the same name holding two tests,
//! `a_contact_is_created::sqlite` and `a_contact_is_created::postgres`, so the test runner's
//! report and a failure name the engine. The PostgreSQL test runs when the test kit says the
//! engine is configured (`crate::common::postgres_enabled`) and otherwise says it is skipped.
//! `#[engines(multi_thread)]` runs each on a two-worker runtime (for tests that block on a
//! child process). Hand-written rather than `rstest` cases because the PostgreSQL case must be
//! skipped at run time, when the database is not configured.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, ItemFn};

/// See the crate's documentation.
#[proc_macro_attribute]
pub fn engines(attr: TokenStream, item: TokenStream) -> TokenStream {
    let f = parse_macro_input!(item as ItemFn);
    let flavor = attr.to_string();
    let runtime = if flavor.trim() == "multi_thread" {
        quote! { #[::tokio::test(flavor = "multi_thread", worker_threads = 2)] }
    } else if flavor.trim().is_empty() {
        quote! { #[::tokio::test] }
    } else {
        return syn::Error::new(proc_macro2::Span::call_site(), "expected `#[engines]` or `#[engines(multi_thread)]`")
            .to_compile_error()
            .into();
    };
    let name = &f.sig.ident;
    if f.sig.asyncness.is_none() || f.sig.inputs.len() != 1 {
        return syn::Error::new_spanned(&f.sig, "an engine test is an `async fn name(k: Kind)`")
            .to_compile_error()
            .into();
    }
    quote! {
        #f

        mod #name {
            #runtime
            async fn sqlite() {
                super::#name(crate::common::Kind::Sqlite).await;
            }

            #runtime
            async fn postgres() {
                if crate::common::postgres_enabled() {
                    super::#name(crate::common::Kind::Postgres).await;
                } else {
                    eprintln!("KARTA_TEST_POSTGRES_URL is not set: the PostgreSQL case is skipped");
                }
            }
        }
    }
    .into()
}
