fn main() { api::run() }
