//! Generates a sample shop.
//!
//! ```sh
//! cargo run --release -p order-hooks --example sample-shop -- shop.db 1000000 [seed] [generic|ecshop]
//! cargo run --release -p order-hooks --example sample-shop -- mysql://ivr:ivr@127.0.0.1:3306/shop 10000 1 ecshop
//! ```

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: sample-shop PATH|URL ORDERS [SEED] [generic|ecshop]");
        std::process::exit(2);
    }
    let orders: u64 = args[1].parse().unwrap_or_else(|_| {
        eprintln!("sample-shop: ORDERS must be a number, not {:?}", args[1]);
        std::process::exit(2)
    });
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let preset = args.get(3).map_or("generic", String::as_str);
    let target = &args[0];
    let r = if target.contains("://") {
        order_hooks::sample_shop::load(target, preset, orders, seed)
    } else if preset == "ecshop" {
        order_hooks::sample_shop::create_sqlite_ecshop(Path::new(target), orders, seed)
    } else {
        order_hooks::sample_shop::create_sqlite(Path::new(target), orders, seed)
    };
    match r {
        Ok(s) => println!(
            "sample-shop: {} orders in {:.1} s; try order {} or phone {}",
            s.orders,
            s.seconds,
            s.sample_order_no,
            order_hooks::mask::phone(&s.sample_phone)
        ),
        Err(e) => {
            eprintln!("sample-shop: {e}");
            std::process::exit(1);
        }
    }
}
