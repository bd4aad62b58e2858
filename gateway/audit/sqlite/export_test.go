package sqlite

// ColumnDefs splits a CREATE TABLE statement into its column definitions,
// for the tampering tests.
var ColumnDefs = columnDefs
