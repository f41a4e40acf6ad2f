create table ledger (id identity primary key, account varchar(64) not null, amount int not null);
