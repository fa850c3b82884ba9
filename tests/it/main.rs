mod cli;
mod helpers;
mod http;
mod web;
mod webdriver;
