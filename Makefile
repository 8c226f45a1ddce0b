# vserver: build, test, demo, install. `make` installs what is missing (Debian and npm packages)
# and builds the commands into bin/.

SHELL := /bin/bash
PREFIX ?= /usr/local
BUN := $(CURDIR)/node_modules/.bin/bun
# Every command is the one thin client (src/native/client.c) under the command's name; it hands the
# call to the host service (dist/vserverd.js) or runs the command's bundle dist/NAME.js directly.
# The list of commands is src/cli/commands.ts.
COMMANDS = $(shell $(BUN) src/cli/commands.ts 2>/dev/null)
CFLAGS_HARDENED := -O2 -static -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong
CFLAGS_CLIENT := $(CFLAGS_HARDENED) -DBUN_PATH='"$(BUN)"' -DDIST_DIR='"$(CURDIR)/dist"' -Ibuild
DEB_PACKAGES := crun runc busybox-static debootstrap iproute2 util-linux procps psmisc file tar gcc libc6-dev python3 xfsprogs btrfs-progs python3-prometheus-client chromium systemd help2man rsync umoci skopeo acl libcap2-bin

.PHONY: all deps deb-deps npm-deps build test test-long unit integration demo install install-boot install-man uninstall typecheck clean bench docs

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
	@mkdir -p dist bin build
	@cmds="$$($(BUN) src/cli/commands.ts)" || exit 1; \
	for c in $$cmds; do \
	  $(BUN) build --target=bun --bytecode --minify-syntax --minify-whitespace --external koffi src/cli/$$c.ts --outdir dist >/dev/null || exit 1; \
	done; \
	$(BUN) src/native/gen-protocol-header.ts service > build/protocol.h.tmp && mv build/protocol.h.tmp build/protocol.h || exit 1; \
	$(BUN) src/native/gen-protocol-header.ts guest-exec > build/guest-exec-protocol.h.tmp && mv build/guest-exec-protocol.h.tmp build/guest-exec-protocol.h || exit 1; \
	gcc $(CFLAGS_CLIENT) -o bin/.client.tmp src/native/client.c || exit 1; \
	mv bin/.client.tmp bin/.client; \
	for c in $$cmds; do ln -f bin/.client bin/$$c.tmp && mv bin/$$c.tmp bin/$$c || exit 1; done; \
	echo "built: $$(for c in $$cmds; do printf 'bin/%s ' $$c; done)"
	@# The guests' PID 1 for script init styles: static, since a guest may have no libc.
	@gcc $(CFLAGS_HARDENED) -Ibuild -o dist/vserver-init.tmp src/native/guest-init.c src/native/guest-exec.c && mv dist/vserver-init.tmp dist/vserver-init
	@# The idmapped mount of a guest's root (the runtime cannot idmap a root file system itself).
	@gcc $(CFLAGS_HARDENED) -o dist/vserver-idmap.tmp src/native/idmap-mount.c && mv dist/vserver-idmap.tmp dist/vserver-idmap
	@# vmount's attach inside a running guest's mount namespace (needs a single-threaded process).
	@gcc $(CFLAGS_HARDENED) -o dist/vserver-mount-into.tmp src/native/mount-into.c && mv dist/vserver-mount-into.tmp dist/vserver-mount-into

# The generated parts of the docs (the settings table of docs/configuration.md).
docs: npm-deps
	$(BUN) src/pure/config/settings-doc.ts docs/configuration.md

typecheck: deps
	node_modules/.bin/tsc -p .

test: build
	node_modules/.bin/tsc -p .
	tests/run-all

unit: build
	$(BUN) test tests/unit

integration: build
	$(BUN) test --timeout 600000 tests/integration

# 1000 start/stop cycles and mixed parallel operations on 50 guests (tests/long), alone; `make test`
# runs them too, after the integration suite.
test-long: build
	$(BUN) test --timeout 86400000 tests/long

demo: build
	demo/run

# Boot integration (boot/): systemd units and generator where systemd looks for local ones, and
# the sysv script for hosts without systemd. @SBINDIR@ and @UNITDIR@ are filled in here.
UNITDIR ?= $(PREFIX)/lib/systemd/system
GENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
INITDIR ?= /etc/init.d
BOOT_UNITS := vservers.service vserver@.service vservers.target vserver-mark@.target
SUBST = sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@UNITDIR@|$(UNITDIR)|g'

# Manual pages: each command's --help, formatted by help2man, with its line in src/cli/descriptions.ts.
MANDIR ?= $(PREFIX)/share/man
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",/\1/p' package.json)

install: build install-boot install-man
	@install -d $(DESTDIR)$(PREFIX)/sbin
	@for c in $(COMMANDS); do install -m 755 bin/$$c $(DESTDIR)$(PREFIX)/sbin/$$c; done

install-boot:
	@install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(GENERATORDIR) $(DESTDIR)$(INITDIR)
	@for u in $(BOOT_UNITS); do $(SUBST) boot/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	@$(SUBST) boot/systemd/vserver-generator > $(DESTDIR)$(GENERATORDIR)/vserver-generator && chmod 755 $(DESTDIR)$(GENERATORDIR)/vserver-generator
	@$(SUBST) boot/sysv/vservers > $(DESTDIR)$(INITDIR)/vservers && chmod 755 $(DESTDIR)$(INITDIR)/vservers

install-man:
	@install -d $(DESTDIR)$(MANDIR)/man8
	@for c in $(COMMANDS) vserverd; do \
	  VSERVER_SERVICE=off help2man --no-info --no-discard-stderr --section=8 --version-string="$(VERSION)" \
	    --name="$$($(BUN) src/cli/descriptions.ts $$c)" --output=$(DESTDIR)$(MANDIR)/man8/$$c.8 $(CURDIR)/bin/$$c || exit 1; \
	done

uninstall:
	@for c in $(COMMANDS); do rm -f $(DESTDIR)$(PREFIX)/sbin/$$c; done
	@for u in $(BOOT_UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	@rm -f $(DESTDIR)$(GENERATORDIR)/vserver-generator $(DESTDIR)$(INITDIR)/vservers
	@for c in $(COMMANDS) vserverd; do rm -f $(DESTDIR)$(MANDIR)/man8/$$c.8; done

bench: build
	bench/run $(if $(QUICK),--quick,)

clean:
	rm -rf dist bin
