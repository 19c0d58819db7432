module github.com/nextshare/nextshare

go 1.26
