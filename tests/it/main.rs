mod cli;
mod drills;
mod helpers;
mod http;
mod moderation;
mod openapi;
mod web;
mod webdriver;
