/**
 * Charters side by side: who in the congress provides which categories of service now,
 * who takes on what next and when, where several pods could work as PARTNERS (two or more
 * on one category, or planning the same next service), and the GAPS: open needs whose
 * category no charter's current services cover (with any next service of the same name
 * that may cover them later). Pure: no I/O, no clock.
 */
import type { CharterContent } from "../charter/model.ts";

export interface SideBySidePod {
  /** The pod (actor IRI). */
  pod: string;
  label: string;
  charter: Pick<CharterContent, "services" | "nextServices"> | null;
}

export interface SideBySideNeed {
  pod: string;
  label: string;
  name: string;
  category: string | null;
  urgent: boolean;
  /** The need's page or id. */
  url: string;
}

export interface CategoryProviders {
  category: string;
  providers: Array<{ pod: string; label: string; services: string[] }>;
}

export interface UpcomingService {
  pod: string;
  label: string;
  name: string;
  /** YYYY-MM-DD */
  targetDate: string;
}

export interface SideBySide {
  /** Per category (alphabetical), the pods whose charters provide it now. */
  categories: CategoryProviders[];
  /** Every next service of the congress, soonest first. */
  upcoming: UpcomingService[];
  /** Several pods on one category (now), or planning a next service of the same name. */
  partners: Array<{ kind: "category"; category: string; pods: string[] } | { kind: "next"; name: string; pods: string[] }>;
  /** Categories with open needs that no charter's current services cover. */
  gaps: Array<{ category: string; needs: SideBySideNeed[]; comingNext: UpcomingService[] }>;
  /** Pods whose charter this node does not hold. */
  withoutCharter: Array<{ pod: string; label: string }>;
}

const key = (s: string) => s.trim().toLowerCase();
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function sideBySide(pods: readonly SideBySidePod[], needs: readonly SideBySideNeed[]): SideBySide {
  const categories = new Map<string, CategoryProviders>();
  const upcoming: UpcomingService[] = [];
  const withoutCharter: SideBySide["withoutCharter"] = [];
  for (const p of pods) {
    if (!p.charter) {
      withoutCharter.push({ pod: p.pod, label: p.label });
      continue;
    }
    for (const s of p.charter.services ?? []) {
      const c = key(s.category);
      const entry = categories.get(c) ?? { category: c, providers: [] };
      let mine = entry.providers.find((x) => x.pod === p.pod);
      if (!mine) entry.providers.push((mine = { pod: p.pod, label: p.label, services: [] }));
      mine.services.push(s.name);
      categories.set(c, entry);
    }
    for (const n of p.charter.nextServices ?? []) upcoming.push({ pod: p.pod, label: p.label, name: n.name, targetDate: n.targetDate });
  }
  upcoming.sort((a, b) => byText(a.targetDate, b.targetDate) || byText(a.label, b.label) || byText(a.name, b.name));

  const partners: SideBySide["partners"] = [];
  const cats = [...categories.values()].sort((a, b) => byText(a.category, b.category));
  for (const c of cats) if (c.providers.length > 1) partners.push({ kind: "category", category: c.category, pods: c.providers.map((p) => p.pod) });
  const nextByName = new Map<string, { name: string; pods: Set<string> }>();
  for (const u of upcoming) {
    const e = nextByName.get(key(u.name)) ?? { name: u.name, pods: new Set<string>() };
    e.pods.add(u.pod);
    nextByName.set(key(u.name), e);
  }
  for (const e of [...nextByName.values()].sort((a, b) => byText(key(a.name), key(b.name)))) {
    if (e.pods.size > 1) partners.push({ kind: "next", name: e.name, pods: [...e.pods] });
  }

  const gapMap = new Map<string, SideBySideNeed[]>();
  for (const n of needs) {
    const c = n.category ? key(n.category) : "";
    if (c === "" || categories.has(c)) continue;
    const list = gapMap.get(c) ?? [];
    list.push(n);
    gapMap.set(c, list);
  }
  const gaps = [...gapMap.entries()]
    .map(([category, list]) => {
      const names = new Set(list.map((n) => key(n.name)));
      const comingNext = upcoming.filter((u) => key(u.name) === category || names.has(key(u.name)) || key(u.name).includes(category));
      const sorted = [...list].sort((a, b) => Number(b.urgent) - Number(a.urgent) || byText(a.label, b.label) || byText(a.name, b.name));
      return { category, needs: sorted, comingNext };
    })
    .sort((a, b) => Number(b.needs.some((n) => n.urgent)) - Number(a.needs.some((n) => n.urgent)) || byText(a.category, b.category));
  return { categories: cats, upcoming, partners, gaps, withoutCharter };
}
