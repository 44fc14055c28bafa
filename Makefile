# Gatehouse: the commands of the README.
.PHONY: dev test bench build deploy migrate-remote

dev:            ## build and serve at http://127.0.0.1:$(PORT) (default 8787) with local D1 and KV
	scripts/dev.sh

test:           ## fmt, clippy, native tests, then the end-to-end suite against wrangler dev
	scripts/test.sh

bench:          ## requests/s and latency of the main endpoints, and the wasm size
	scripts/bench.sh

build:          ## build the worker into build/
	scripts/build.sh

deploy:         ## apply migrations to the remote D1 database and deploy
	scripts/deploy.sh
