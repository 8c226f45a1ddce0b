# vserver: build, test, demo, install. `make` installs what is missing (Debian and npm packages)
# and builds the commands into bin/.

SHELL := /bin/bash
PREFIX ?= /usr/local
BUN := $(CURDIR)/node_modules/.bin/bun
COMMANDS := vserver vserver-stat vps vpstree vtop vkill vwait vserver-info chcontext reducecap chbind vuname vlimit vattribute start-vservers
# Commands with a native front-end (src/native): bin/NAME is the C program, which hands every case
# it does not serve itself to the bundle dist/NAME.js. The others are the bundle with a shebang.
NATIVE := vserver vserver-stat vps
NATIVE_COMMON := $(addprefix src/native/,front.c proc.c exec-record.c journal.c stat-format.c lock.c start-plan.c lifecycle.c native-start.c native-stop.c)
CFLAGS_HARDENED := -O2 -static -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong
CFLAGS_NATIVE := $(CFLAGS_HARDENED) -DBUN_PATH='"$(BUN)"' -DDIST_DIR='"$(CURDIR)/dist"'
DEB_PACKAGES := crun runc busybox-static debootstrap iproute2 util-linux procps psmisc file tar gcc libc6-dev python3

.PHONY: all deps deb-deps npm-deps build test test-long unit integration demo install uninstall typecheck clean bench

all: build

deb-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

npm-deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: deb-deps npm-deps

build: deps
	@mkdir -p dist bin
	@for c in $(COMMANDS); do \
	  $(BUN) build --target=bun --minify-syntax --minify-whitespace --external koffi src/cli/$$c.ts --outfile dist/$$c.js >/dev/null || exit 1; \
	  case " $(NATIVE) " in *" $$c "*) \
	    gcc $(CFLAGS_NATIVE) -o bin/$$c.tmp $(NATIVE_COMMON) src/native/$$c.c -lm || exit 1;; \
	  *) { echo "#!$(BUN)"; cat dist/$$c.js; } > bin/$$c.tmp && chmod 755 bin/$$c.tmp;; \
	  esac; \
	  mv bin/$$c.tmp bin/$$c; \
	done
	@# The guests' PID 1 for script init styles: static, since a guest may have no libc.
	@gcc $(CFLAGS_HARDENED) -o dist/vserver-init.tmp src/native/guest-init.c && mv dist/vserver-init.tmp dist/vserver-init
	@echo "built: $(addprefix bin/,$(COMMANDS))"

typecheck: deps
	node_modules/.bin/tsc -p .

test: build
	node_modules/.bin/tsc -p .
	tests/run-all

unit: build
	$(BUN) test tests/unit

integration: build
	$(BUN) test --timeout 600000 tests/integration

# 1000 start/stop cycles and mixed parallel operations on 50 guests (tests/long): hours, not in `make test`.
test-long: build
	$(BUN) test --timeout 86400000 tests/long

demo: build
	demo/run

install: build
	@for c in $(COMMANDS); do install -m 755 bin/$$c $(DESTDIR)$(PREFIX)/sbin/$$c; done

uninstall:
	@for c in $(COMMANDS); do rm -f $(DESTDIR)$(PREFIX)/sbin/$$c; done

bench: build
	bench/run $(if $(QUICK),--quick,)

clean:
	rm -rf dist bin
