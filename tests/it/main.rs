mod cli;
mod drills;
mod helpers;
mod http;
mod openapi;
mod privacy;
mod web;
mod webdriver;
