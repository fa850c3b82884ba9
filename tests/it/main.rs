mod cli;
mod drills;
mod helpers;
mod http;
