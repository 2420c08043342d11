//! The rathaus application: command line, configuration, demo data, job
//! handlers, and the wiring of storage and web into one process.

pub mod admin;
pub mod cli;
pub mod config;
pub mod demo;
pub mod demo_records;
pub mod jobs;
pub mod server;
