mod cli;
mod helpers;
mod http;
