fn main() { println!("hello from an auditable fixture"); }
