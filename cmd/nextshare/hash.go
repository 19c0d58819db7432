package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/nextshare/nextshare/internal/merkle"
	"github.com/nextshare/nextshare/internal/node"
	"github.com/nextshare/nextshare/internal/uri"
)

type hashCmd struct {
	JSON      bool   `help:"Print {root_hash, uri, size, chunk_size, hash} as JSON."`
	HashFunc  string `name:"hash" default:"sha1" enum:"sha1,sha256" help:"Merkle hash function (sha1 is libswift's)."`
	ChunkSize int    `default:"1024" help:"Chunk size in bytes."`
	File      string `arg:"" type:"existingfile" help:"File to hash."`
}

func hashFunc(name string) merkle.Func {
	if name == "sha256" {
		return merkle.SHA256
	}
	return merkle.SHA1
}

func (c *hashCmd) Run(g *globals) error {
	f := hashFunc(c.HashFunc)
	t, err := node.Hash(c.File, f, c.ChunkSize)
	if err != nil {
		return err
	}
	link := uri.URI{Root: t.Root(), Func: f}.String()
	if c.JSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"root_hash":  fmt.Sprintf("%x", t.Root()),
			"uri":        link,
			"size":       t.Size(),
			"chunk_size": c.ChunkSize,
			"hash":       c.HashFunc,
		})
	}
	fmt.Printf("%x\n%s\n", t.Root(), link)
	return nil
}
