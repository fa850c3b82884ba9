mod cli;
mod drills;
mod helpers;
mod http;
mod web;
mod webdriver;
