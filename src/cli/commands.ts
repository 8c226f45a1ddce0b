// Every command the host service serves, by the name it is installed under. Its workers load them
// all once, so a served command starts at its own first line. The Makefile builds one executable
// per name printed by `bun src/cli/commands.ts`: these, and vserverd, which manages the service
// itself and is never served.

import { main as chbind } from "./chbind";
import { main as chcontext } from "./chcontext";
import { main as reducecap } from "./reducecap";
import { main as startVservers } from "./start-vservers";
import { main as vattribute } from "./vattribute";
import { main as vkill } from "./vkill";
import { main as vlimit } from "./vlimit";
import { main as vps } from "./vps";
import { main as vpstree } from "./vpstree";
import { main as vserverInfo } from "./vserver-info";
import { main as vserverStat } from "./vserver-stat";
import { main as vserver } from "./vserver";
import { main as vtop } from "./vtop";
import { main as vuname } from "./vuname";
import { main as vwait } from "./vwait";
import { main as vreboot } from "./vreboot";
import { main as vhalt } from "./vhalt";
import { main as vsomething } from "./vsomething";
import { main as vaptGet } from "./vapt-get";
import { main as vrpm } from "./vrpm";
import { main as vyum } from "./vyum";
import { main as vhashify } from "./vhashify";
import { main as vunify } from "./vunify";
import { main as vdu } from "./vdu";
import { main as vdlimit } from "./vdlimit";
import { main as setattr } from "./setattr";
import { main as showattr } from "./showattr";
import { main as vserverEvents } from "./vserver-events";
import { main as vmount } from "./vmount";
import { main as vspace } from "./vspace";
import { main as vnamespace } from "./vnamespace";
import { main as execCd } from "./exec-cd";
import { main as vsched } from "./vsched";

export type CommandMain = (argv: string[]) => Promise<number | void> | number | void;

export const COMMANDS: Record<string, CommandMain> = {
  vserver, "vserver-stat": vserverStat, vps, vpstree, vtop, vkill, vwait, "vserver-info": vserverInfo,
  chcontext, reducecap, chbind, vuname, vlimit, vattribute, "start-vservers": startVservers,
  vreboot, vhalt, vsomething, "vapt-get": vaptGet, vrpm, vyum, vhashify, vunify, vdu, vdlimit, setattr, showattr, "vserver-events": vserverEvents, vmount, vspace, vnamespace, "exec-cd": execCd, vsched,
};

if (import.meta.main) console.log([...Object.keys(COMMANDS), "vserverd"].join(" "));
