mod cli;
mod drills;
mod helpers;
mod http;
mod openapi;
mod web;
mod webdriver;
mod privacy;
