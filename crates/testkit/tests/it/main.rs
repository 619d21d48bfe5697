//! Integration tests: every test runs against the real application on port 0, once on SQLite and
//! once on PostgreSQL (a fresh database each, dropped afterwards). One test binary for all.

mod helpers;

mod alerts;
mod api;
mod audit;
mod auth;
mod complaints;
mod desk;
mod hygiene;
mod keys;
mod layers;
mod pages;
mod part_applications;
mod parts;
mod plans;
mod portal;
mod recalls;
mod return_visits;
mod returns;
mod roles;
mod scoping;
mod stocktakes;
mod store;
mod transfer;
mod warranty;
mod warranty_cards;
mod work_orders;
mod workplace;

/// Expand each listed `async fn name(backend: Backend)` into one test per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(shouhou_store::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(shouhou_store::Backend::Postgres).await })*
        }
    };
}
