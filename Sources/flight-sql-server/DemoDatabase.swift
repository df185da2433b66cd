import FlightSQL
import FlightSQLSQLite

/// The demo database served when no --database is given: a small shop with customers,
/// products, orders and order lines, generated the same way every time.
enum DemoDatabase {
    static func create(at path: String) throws {
        let connection = try SQLiteConnection(path: path, readOnly: false, create: true)
        defer { connection.close() }
        try connection.execute(script)
    }

    static let script = """
        BEGIN;
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT,
            country TEXT NOT NULL,
            signup_date DATE NOT NULL,
            is_active BOOLEAN NOT NULL
        );
        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            category TEXT NOT NULL,
            price REAL NOT NULL,
            stock INTEGER NOT NULL,
            image BLOB
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            ordered_at TIMESTAMP NOT NULL,
            status TEXT NOT NULL
        );
        CREATE TABLE order_items (
            order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
            line INTEGER NOT NULL,
            product_id INTEGER NOT NULL REFERENCES products(id),
            quantity INTEGER NOT NULL,
            unit_price REAL NOT NULL,
            PRIMARY KEY (order_id, line)
        );
        CREATE VIEW order_totals AS
            SELECT o.id AS order_id, c.name AS customer, SUM(i.quantity * i.unit_price) AS total
            FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_items i ON i.order_id = o.id
            GROUP BY o.id, c.name;

        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
        INSERT INTO customers
        SELECT i,
               (SELECT value FROM json_each('["Ada","Grace","Alan","Edsger","Barbara","Donald","Frances","Ken","Radia","Tim"]') WHERE key = i % 10)
                   || ' ' ||
               (SELECT value FROM json_each('["Lovelace","Hopper","Turing","Dijkstra","Liskov","Knuth","Allen","Thompson","Perlman","Berners-Lee","Hamilton"]') WHERE key = i % 11),
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'customer' || i || '@example.com' END,
               (SELECT value FROM json_each('["GB","US","DE","FR","NL","JP","BR","IN"]') WHERE key = i % 8),
               date('2020-01-01', '+' || (i * 5) || ' days'),
               i % 5 != 0
        FROM n;

        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
        INSERT INTO products
        SELECT i,
               (SELECT value FROM json_each('["Widget","Gadget","Sprocket","Gizmo","Doohickey"]') WHERE key = i % 5) || ' ' || i,
               (SELECT value FROM json_each('["tools","toys","garden","kitchen"]') WHERE key = i % 4),
               round(1.5 + (i * 37 % 200) + (i % 100) / 100.0, 2),
               (i * 13) % 90,
               CASE WHEN i % 3 = 0 THEN CAST(printf('img-%03d', i) AS BLOB) ELSE NULL END
        FROM n;

        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
        INSERT INTO orders
        SELECT i, 1 + (i * 7919) % 200,
               datetime('2023-01-01 08:00:00', '+' || (i * 523) || ' minutes'),
               (SELECT value FROM json_each('["placed","paid","shipped","delivered","returned"]') WHERE key = i % 5)
        FROM n;

        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
        INSERT INTO order_items
        SELECT 1 + (i - 1) / 3, 1 + (i - 1) % 3, 1 + (i * 31) % 50, 1 + i % 4,
               (SELECT price FROM products WHERE id = 1 + (i * 31) % 50)
        FROM n;
        COMMIT;
        """
}
