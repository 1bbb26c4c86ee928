import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';
import type { FieldError } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { finderOver, sortAreas, toLoaded } from './areas.js';
import { estateErrors } from './estate.errors.js';
import type { DevicesTable, EstateRepository, SitesTable } from './estate.repository.js';
import {
  AREA_KINDS,
  type AreaImportOptions,
  type AreaKind,
  type DeviceCreate,
  type DeviceCredentials,
  type EstateFilter,
  type ImportError,
  type PostcodeImport,
  type Profile,
  type SiteCreate,
} from './estate.schema.js';
import type { EstateService, Origin } from './estate.service.js';
import { connectivityRow, isPersonalType } from './mapping.js';
import { type AreaGeometry, bboxOf, geometryProblem } from './geo.js';
import { readPostcodes } from './postcodes.js';
import { asFieldErrors, credentialsCsv, deviceInput, devicesCsv, MAX_REPORTED_ERRORS, readDevicesTable, readSitesTable, rowErrors, siteInput, sitesCsv } from './imports.js';

/**
 * Bulk changes to the estate: areas from GeoJSON, sites and devices from CSV (every row
 * checked before anything is written, then all in one transaction), CSV export, and
 * imports run as background jobs with their progress kept for the console.
 */
export class EstateImports {
  private readonly repo: EstateRepository;
  private readonly db: Db;
  private readonly audit: AuditService;
  private readonly secret: string;

  constructor(
    private readonly estate: EstateService,
    private readonly jobs?: JobQueue,
  ) {
    this.repo = estate.repo;
    this.db = estate.db;
    this.audit = estate.audit;
    this.secret = estate.secret;
  }

  // ---------------------------------------------------------------- areas: GeoJSON import

  /** Adds or replaces areas (matched by code, else by name) from a FeatureCollection, then re-places every site and device. */
  async importAreas(actor: Actor, geojson: unknown, options: AreaImportOptions = {}, origin: Origin = {}) {
    const features = checkFeatureCollection(geojson, options);
    const now = new Date();
    let created = 0;
    let updated = 0;
    const placed = await this.db.transaction(async (trx) => {
      for (const f of features) {
        const bbox = bboxOf(f.geometry);
        const columns = { name: f.name, kind: f.kind, geometry_json: toJson(f.geometry), min_lon: bbox[0], min_lat: bbox[1], max_lon: bbox[2], max_lat: bbox[3], updated_at: now };
        const existing = await this.repo.findAreaByCodeOrName(f.code, f.name, trx);
        if (existing) await this.repo.updateArea(existing.id, columns, trx);
        else await this.repo.insertArea({ id: newId(), code: f.code, ...columns, created_at: now }, trx);
        if (existing) updated++;
        else created++;
      }
      const counts = await this.placeEverything(trx);
      await this.audit.record(
        {
          actor,
          action: 'estate.area_import',
          summary: `Imported ${features.length} areas (${created} new, ${updated} changed)`,
          targetType: 'area',
          changes: { created, updated, ...counts },
          ...origin,
        },
        trx,
      );
      return counts;
    });
    await this.estate.changed({ areas: true });
    return { created, updated, placed };
  }

  async deleteArea(actor: Actor, id: string, origin: Origin = {}): Promise<void> {
    const area = (await this.estate.listAreas()).find((a) => a.id === id);
    if (!area) throw estateErrors.AREA_NOT_FOUND();
    await this.db.transaction(async (trx) => {
      await this.repo.deleteArea(id, trx);
      await this.placeEverything(trx);
      await this.audit.record({ actor, action: 'estate.area_delete', summary: `Deleted area ${area.name}`, targetType: 'area', targetId: id, ...origin }, trx);
    });
    await this.estate.changed({ areas: true });
  }

  /** Puts every site, device and postcode in the area its position (or its site's) lies in; returns how many moved. */
  private async placeEverything(trx: Executor): Promise<{ sites: number; devices: number; postcodes: number }> {
    const areaOf = finderOver(sortAreas((await this.repo.listAreas(trx)).map(toLoaded)));
    const { sites, devices } = await this.repo.positions(trx);
    const siteArea = new Map<string, string | null>();
    const siteChanges = [];
    for (const site of sites) {
      const areaId = areaOf(site.lat, site.lon);
      siteArea.set(site.id, areaId);
      if (areaId !== site.area_id) siteChanges.push({ id: site.id, area_id: areaId });
    }
    const deviceChanges = [];
    for (const d of devices) {
      const areaId = d.lat !== null && d.lon !== null ? areaOf(d.lat, d.lon) : d.site_id ? (siteArea.get(d.site_id) ?? null) : null;
      if (areaId !== d.area_id) deviceChanges.push({ id: d.id, area_id: areaId });
    }
    await this.repo.setAreas('sites', siteChanges, trx);
    await this.repo.setAreas('devices', deviceChanges, trx);
    const postcodeMoves = new Map<string | null, string[]>();
    let postcodes = 0;
    for (const p of await this.repo.postcodePositions(trx)) {
      const areaId = areaOf(Number(p.lat), Number(p.lon));
      if (areaId === p.area_id) continue;
      const moving = postcodeMoves.get(areaId) ?? [];
      moving.push(p.postcode);
      postcodeMoves.set(areaId, moving);
      postcodes++;
    }
    await this.repo.setPostcodeAreas(postcodeMoves, trx);
    return { sites: siteChanges.length, devices: deviceChanges.length, postcodes };
  }

  /** The areas with their shapes, as a GeoJSON FeatureCollection (for maps and export). */
  async areasGeoJson() {
    const areas = await this.estate.areas.geometries();
    return {
      type: 'FeatureCollection' as const,
      features: areas.map((a) => ({ type: 'Feature' as const, id: a.view.id, properties: { id: a.view.id, name: a.view.name, code: a.view.code, kind: a.view.kind }, geometry: a.geometry })),
    };
  }

  // ---------------------------------------------------------------- the postcode list

  /**
   * Adds or updates postcodes from a CSV (ONS Postcode Directory columns, or any with a postcode,
   * lat and long): every row checked first, then all written in one transaction, or none. Each is
   * placed in the area its centre lies in. Postcodes not in the file are kept: people still write
   * terminated ones.
   */
  async importPostcodes(actor: Actor, text: string, origin: Origin = {}): Promise<PostcodeImport> {
    const file = readPostcodes(text);
    if (file.errors.length) throw importInvalid(file.errors);
    const areaOf = await this.estate.areas.finder();
    const now = new Date();
    const rows = file.points.map((p) => ({ postcode: p.postcode, lat: p.lat, lon: p.lon, area_id: areaOf(p.lat, p.lon), updated_at: now }));
    const result = { count: rows.length, skipped: file.skipped, inAreas: rows.filter((r) => r.area_id).length };
    await this.db.transaction(async (trx) => {
      await this.repo.upsertPostcodes(rows, trx);
      const skipped = result.skipped ? `; ${result.skipped} without a grid reference left out` : '';
      await this.audit.record({ actor, action: 'estate.postcode_import', summary: `Imported ${result.count} postcodes from CSV${skipped}`, targetType: 'postcode', changes: result, ...origin }, trx);
    });
    return result;
  }

  // ---------------------------------------------------------------- CSV import and export

  /** Checks every row of a sites CSV; writes nothing. */
  async checkSites(actor: Actor, text: string, progress?: Progress): Promise<{ errors: ImportError[]; total: number; sites: SitesTable[]; connectivity: ConnectivityRow[] }> {
    const table = readSitesTable(text);
    if (Array.isArray(table)) return { errors: table, total: 0, sites: [], connectivity: [] };
    const errors: ImportError[] = [];
    const ids = new Map<string, number>();
    const inputs: [number, SiteCreate][] = [];
    const may = { homes: this.estate.mayWrite(actor, true), estate: this.estate.mayWrite(actor, false) };
    for (const [i, [row, cells]] of table.rows.entries()) {
      if (progress && i % PROGRESS_EVERY === 0) await progress(i, table.rows.length);
      const input = siteInput(cells);
      const errs = rowErrors('sites', row, input);
      if (!errs.length) errs.push(...this.siteRowRules(row, input as SiteCreate, may, ids));
      if (errs.length) errors.push(...errs);
      else inputs.push([row, input as SiteCreate]);
    }
    const taken = await this.repo.siteIdsExisting([...ids.keys()]);
    for (const id of taken) errors.push({ row: ids.get(id) as number, field: 'id', message: 'A site with this id already exists' });
    if (errors.length) return { errors: sortErrors(errors), total: table.rows.length, sites: [], connectivity: [] };
    const now = new Date();
    const areaOf = await this.estate.areas.finder();
    const sites = inputs.map(([, input]) => this.estate.siteRow(input.id?.toLowerCase() ?? newId(), input, now, areaOf));
    const connectivity = inputs.flatMap(([, input], i) => (input.connectivity ? [connectivityRow(sites[i].id, input.connectivity, now)] : []));
    return { errors: [], total: table.rows.length, sites, connectivity };
  }

  private siteRowRules(row: number, input: SiteCreate, may: { homes: boolean; estate: boolean }, ids: Map<string, number>): ImportError[] {
    const errs: ImportError[] = [];
    // The same rule as EstateService.checkWrite, row by row.
    if (isPersonalType(input.type) && !may.homes) errs.push({ row, field: 'type', message: 'Residents’ homes need the homes:manage permission' });
    if (!isPersonalType(input.type) && !may.estate) errs.push({ row, field: 'type', message: 'Sites other than residents’ homes need the estate:manage permission' });
    if (input.id) {
      const id = input.id.toLowerCase();
      if (ids.has(id)) errs.push({ row, field: 'id', message: `The same id is on row ${ids.get(id)}` });
      else ids.set(id, row);
    }
    return errs;
  }

  /** Imports a sites CSV: every row checked first; all written in one transaction, or none. */
  async importSites(actor: Actor, text: string, origin: Origin = {}, progress?: Progress): Promise<{ count: number }> {
    const checked = await this.checkSites(actor, text, progress);
    if (checked.errors.length) throw importInvalid(checked.errors);
    await this.db.transaction(async (trx) => {
      await this.repo.insertSites(checked.sites, trx);
      await this.repo.insertConnectivity(checked.connectivity, trx);
      await this.audit.record(
        { actor, action: 'estate.site_import', summary: `Imported ${checked.sites.length} sites from CSV`, targetType: 'site', changes: { count: checked.sites.length }, ...origin },
        trx,
      );
    });
    return { count: checked.sites.length };
  }

  /** Checks every row of a devices CSV; writes nothing. */
  async checkDevices(
    actor: Actor,
    text: string,
    progress?: Progress,
  ): Promise<{ errors: ImportError[]; total: number; devices: DevicesTable[]; credentials: (DeviceCredentials & { id: string; name: string; serial: string })[] }> {
    const table = readDevicesTable(text);
    if (Array.isArray(table)) return { errors: table, total: 0, devices: [], credentials: [] };
    const profiles = new Map<string, Profile>();
    for (const p of await this.estate.listProfiles()) profiles.set(p.key, p).set(p.id, p);
    const errors: ImportError[] = [];
    const inputs: [number, DeviceCreate][] = [];
    const wellFormed: [number, DeviceCreate][] = [];
    const seen = { ids: new Map<string, number>(), serials: new Map<string, number>(), externalIds: new Map<string, number>(), siteIds: new Set<string>() };
    for (const [i, [row, cells]] of table.rows.entries()) {
      if (progress && i % PROGRESS_EVERY === 0) await progress(i, table.rows.length);
      const input = deviceInput(cells);
      const errs = rowErrors('devices', row, input);
      if (errs.length) {
        errors.push(...errs);
        continue;
      }
      wellFormed.push([row, input as DeviceCreate]);
      const broken = deviceRowRules(row, input as DeviceCreate, profiles, seen);
      if (broken.length) errors.push(...broken);
      else inputs.push([row, input as DeviceCreate]);
    }
    const sites = await this.repo.sitesPersonal([...seen.siteIds]);
    errors.push(...(await this.deviceDatabaseRules(actor, wellFormed, sites, seen)));
    if (errors.length) return { errors: sortErrors(errors), total: table.rows.length, devices: [], credentials: [] };
    const now = new Date();
    const areaOf = await this.estate.areas.finder();
    const devices: DevicesTable[] = [];
    const credentials = [];
    for (const [, input] of inputs) {
      const site = input.siteId ? { id: input.siteId, areaId: sites.get(input.siteId)?.areaId ?? null } : null;
      const made = this.estate.deviceRow(input.id ?? newId(), input, (profiles.get(input.profile) as Profile).id, site, now, areaOf);
      devices.push(made.row);
      credentials.push({ id: made.row.id, name: made.row.name, serial: made.row.serial, ...made.credentials });
    }
    return { errors: [], total: table.rows.length, devices, credentials };
  }

  private async deviceDatabaseRules(actor: Actor, inputs: [number, DeviceCreate][], sites: Map<string, { isPersonal: boolean }>, seen: DeviceSeen): Promise<ImportError[]> {
    const errors: ImportError[] = [];
    // Homes do not exist for those who may neither see nor change them; otherwise the rule of EstateService.checkWrite.
    const findHomes = this.estate.maySeeHomes(actor) || this.estate.mayWrite(actor, true);
    for (const [row, input] of inputs) {
      const site = input.siteId ? sites.get(input.siteId) : undefined;
      if (input.siteId && (!site || (site.isPersonal && !findHomes))) errors.push({ row, field: 'site_id', message: 'There is no site with this id' });
      else if (site?.isPersonal && !this.estate.mayWrite(actor, true)) errors.push({ row, field: 'site_id', message: 'Devices in residents’ homes need the homes:manage permission' });
      else if (!site?.isPersonal && !this.estate.mayWrite(actor, false)) errors.push({ row, field: 'site_id', message: 'Devices outside residents’ homes need the estate:manage permission' });
    }
    const taken = await this.repo.takenDeviceKeys([...seen.serials.keys()], [...seen.externalIds.keys()]);
    for (const serial of taken.serials) errors.push({ row: seen.serials.get(serial) as number, field: 'serial', message: 'A device with this serial number already exists' });
    for (const eui of taken.externalIds) errors.push({ row: seen.externalIds.get(eui) as number, field: 'external_id', message: 'A device with this DevEUI already exists' });
    for (const id of await this.repo.deviceIdsExisting([...seen.ids.keys()])) errors.push({ row: seen.ids.get(id) as number, field: 'id', message: 'A device with this id already exists' });
    return errors;
  }

  /** Imports a devices CSV; returns each device's new credentials, this once. */
  async importDevices(actor: Actor, text: string, origin: Origin = {}, progress?: Progress) {
    const checked = await this.checkDevices(actor, text, progress);
    if (checked.errors.length) throw importInvalid(checked.errors);
    await this.db.transaction(async (trx) => {
      await this.repo.insertDevices(checked.devices, trx);
      await this.audit.record(
        { actor, action: 'estate.device_import', summary: `Imported ${checked.devices.length} devices from CSV`, targetType: 'device', changes: { count: checked.devices.length }, ...origin },
        trx,
      );
    });
    return { count: checked.devices.length, credentials: checked.credentials, credentialsCsv: credentialsCsv(checked.credentials) };
  }

  async exportSitesCsv(filter: EstateFilter): Promise<string> {
    return sitesCsv(await this.everything((f) => this.estate.listSites(f), filter));
  }

  async exportDevicesCsv(filter: EstateFilter): Promise<string> {
    return devicesCsv(await this.everything((f) => this.estate.listDevices(f), filter));
  }

  /** Every page of a list, in keyset order. */
  private async everything<T extends { id: string }>(list: (f: EstateFilter) => Promise<T[]>, filter: EstateFilter): Promise<T[]> {
    const out: T[] = [];
    for (let after: string | undefined; ; ) {
      const page = await list({ ...filter, limit: 5000, after });
      out.push(...page);
      if (page.length < 5000) return out;
      after = page[page.length - 1].id;
    }
  }

  // ---------------------------------------------------------------- imports as background jobs, with progress

  /**
   * Queues an import; the estate.import job checks and writes it, keeping its progress for the
   * console and the API to show. The job acts with what its creator held of the permissions that
   * matter to an import (KEPT_PERMISSIONS), as they were when it was queued.
   */
  async startImport(actor: Actor, kind: 'sites' | 'devices', text: string, fileName: string | null, origin: Origin = {}): Promise<string> {
    const id = newId();
    const now = new Date();
    const by: StoredCreator = { type: actor.type, id: actor.id, label: actor.label, permissions: KEPT_PERMISSIONS.filter((p) => actor.permissions.has(p)) };
    await this.db.transaction(async (trx) => {
      await this.repo.insertImport(
        {
          id,
          kind,
          status: 'queued',
          file_name: fileName,
          csv_text: text,
          total_rows: 0,
          checked_rows: 0,
          written_rows: 0,
          errors_json: toJson([]),
          result_sealed: null,
          created_by: actor.id,
          created_by_json: toJson(by),
          created_at: now,
          updated_at: now,
          finished_at: null,
        },
        trx,
      );
      await this.audit.record(
        { actor, action: 'estate.import_start', summary: `Started an import of ${kind} from ${fileName ?? 'a CSV file'}`, targetType: 'estate_import', targetId: id, changes: { kind }, ...origin },
        trx,
      );
    });
    if (this.jobs) await this.jobs.enqueue('estate.import', { importId: id }, { idempotencyKey: `estate.import:${id}`, maxAttempts: 2 });
    else await this.runImport(id, { lastAttempt: true });
    return id;
  }

  /**
   * The estate.import job. Safe to run again: the write and the "done" mark are one transaction.
   * If its last attempt fails for a reason of Weft's own, the import is marked failed, so that
   * nobody waits on it for ever.
   */
  async runImport(importId: string, options: { lastAttempt?: boolean } = {}): Promise<void> {
    try {
      await this.runImportOnce(importId);
    } catch (err) {
      if (options.lastAttempt) {
        const now = new Date();
        const error: ImportError = {
          row: 1,
          field: 'file',
          message: 'The import stopped because of a fault in Weft. Nothing was imported: try again, and tell your administrator if it happens again',
        };
        await this.repo.updateImport(importId, { status: 'failed', errors_json: toJson([error]), csv_text: null, updated_at: now, finished_at: now }).catch(() => {});
      }
      throw err;
    }
  }

  private async runImportOnce(importId: string): Promise<void> {
    const job = await this.repo.findImport(importId);
    if (!job || job.status === 'done' || job.status === 'failed' || job.csv_text === null) return;
    const actor = creatorOf(job.created_by_json as StoredCreator);
    const progress: Progress = async (checked, total) => {
      await this.repo.updateImport(importId, { status: 'checking', checked_rows: checked, total_rows: total, updated_at: new Date() });
      // Let the process answer requests between chunks: on SQLite the check never waits on I/O.
      await new Promise((resolve) => setImmediate(resolve));
    };
    const checked = job.kind === 'sites' ? await this.checkSites(actor, job.csv_text, progress) : await this.checkDevices(actor, job.csv_text, progress);
    const now = new Date();
    if (checked.errors.length) {
      await this.repo.updateImport(importId, {
        status: 'failed',
        checked_rows: checked.total,
        total_rows: checked.total,
        errors_json: toJson(checked.errors.slice(0, MAX_REPORTED_ERRORS)),
        csv_text: null,
        updated_at: now,
        finished_at: now,
      });
      return;
    }
    await this.repo.updateImport(importId, { status: 'writing', checked_rows: checked.total, total_rows: checked.total, updated_at: now });
    await this.db.transaction(async (trx) => {
      let count = 0;
      let sealed: string | null = null;
      if ('sites' in checked) {
        await this.repo.insertSites(checked.sites, trx);
        await this.repo.insertConnectivity(checked.connectivity, trx);
        count = checked.sites.length;
      } else {
        await this.repo.insertDevices(checked.devices, trx);
        count = checked.devices.length;
        sealed = seal(this.secret, credentialsCsv(checked.credentials));
      }
      const done = new Date();
      await this.repo.updateImport(importId, { status: 'done', written_rows: count, csv_text: null, result_sealed: sealed, updated_at: done, finished_at: done }, trx);
      const target = job.kind === 'sites' ? 'site' : 'device';
      await this.audit.record(
        { actor, action: `estate.${target}_import`, summary: `Imported ${count} ${job.kind} from ${job.file_name ?? 'a CSV file'}`, targetType: target, changes: { count, importId } },
        trx,
      );
    });
  }

  async getImport(id: string): Promise<ImportView> {
    const row = isUuid(id) ? await this.repo.findImport(id.toLowerCase()) : undefined;
    if (!row) throw estateErrors.IMPORT_NOT_FOUND();
    return {
      id: row.id,
      kind: row.kind as 'sites' | 'devices',
      status: row.status as ImportView['status'],
      fileName: row.file_name,
      totalRows: Number(row.total_rows),
      checkedRows: Number(row.checked_rows),
      writtenRows: Number(row.written_rows),
      errors: row.errors_json as ImportError[],
      hasCredentials: row.result_sealed !== null && Date.now() - row.created_at.getTime() < CREDENTIALS_KEPT_MS,
      createdBy: row.created_by,
      createdByType: ((row.created_by_json as StoredCreator | null)?.type ?? null) as Actor['type'] | null,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
    };
  }

  /** The credentials a devices import made: handed over once, then gone. */
  async takeImportCredentials(actor: Actor, id: string, origin: Origin = {}): Promise<string> {
    const view = await this.getImport(id);
    if (actor.type !== 'system' && !startedBy(view, actor)) throw estateErrors.IMPORT_NOT_FOUND();
    return this.db.transaction(async (trx) => {
      const row = await this.repo.findImport(view.id, trx);
      const sealed = row?.result_sealed;
      await this.repo.updateImport(view.id, { result_sealed: null, updated_at: new Date() }, trx);
      if (!sealed || !view.hasCredentials) throw estateErrors.IMPORT_RESULT_GONE();
      await this.audit.record(
        { actor, action: 'estate.import_credentials', summary: `Downloaded the device credentials of import ${view.id}`, targetType: 'estate_import', targetId: view.id, ...origin },
        trx,
      );
      return unseal(this.secret, sealed);
    });
  }

  listImports() {
    return this.repo.listImports();
  }
}

export type Progress = (checked: number, total: number) => Promise<void>;
type ConnectivityRow = ReturnType<typeof connectivityRow>;
interface DeviceSeen {
  ids: Map<string, number>;
  serials: Map<string, number>;
  externalIds: Map<string, number>;
  siteIds: Set<string>;
}
export interface ImportView {
  id: string;
  kind: 'sites' | 'devices';
  status: 'queued' | 'checking' | 'writing' | 'done' | 'failed';
  fileName: string | null;
  totalRows: number;
  checkedRows: number;
  writtenRows: number;
  errors: ImportError[];
  hasCredentials: boolean;
  createdBy: string | null;
  /** user, key or system */
  createdByType: Actor['type'] | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** Whether this actor started the import: the same person or the same API key. */
export function startedBy(view: ImportView, actor: Actor): boolean {
  return actor.id !== null && view.createdBy === actor.id && (view.createdByType === null || view.createdByType === actor.type);
}

/** The permissions an import job keeps of its creator's: those its rules ask about. */
const KEPT_PERMISSIONS = ['estate:manage', 'homes:manage', 'homes:read'];

interface StoredCreator {
  type: Actor['type'];
  id: string | null;
  label: string;
  permissions?: string[];
  /** imports queued before permissions were stored: homes:read then let one write homes */
  homes?: boolean;
}

function creatorOf(by: StoredCreator): Actor {
  const held = by.permissions ?? (by.homes ? ['estate:manage', 'homes:read', 'homes:manage'] : ['estate:manage']);
  return { type: by.type, id: by.id, label: by.label, roles: [], permissions: new Set(held.filter((p) => KEPT_PERMISSIONS.includes(p))) };
}

/** rows checked between progress updates */
const PROGRESS_EVERY = 500;

const CREDENTIALS_KEPT_MS = 24 * 3_600_000;

function deviceRowRules(row: number, input: DeviceCreate, profiles: Map<string, Profile>, seen: DeviceSeen): ImportError[] {
  const errs: ImportError[] = [];
  if (!profiles.has(input.profile)) errs.push({ row, field: 'profile', message: `There is no device profile ${input.profile}` });
  const once = (map: Map<string, number>, key: string | null | undefined, field: string, what: string) => {
    if (!key) return;
    if (map.has(key)) errs.push({ row, field, message: `The same ${what} is on row ${map.get(key)}` });
    else map.set(key, row);
  };
  once(seen.ids, input.id, 'id', 'id');
  once(seen.serials, input.serial.trim(), 'serial', 'serial number');
  once(seen.externalIds, input.externalId?.toLowerCase(), 'external_id', 'DevEUI');
  if (input.siteId) seen.siteIds.add(input.siteId);
  return errs;
}

function sortErrors(errors: ImportError[]): ImportError[] {
  return errors.sort((a, b) => a.row - b.row);
}

function importInvalid(errors: ImportError[]) {
  const n = errors.length;
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  return estateErrors.IMPORT_INVALID(
    `The file has ${n} ${n === 1 ? 'error' : 'errors'}${n > shown.length ? ` (the first ${shown.length} are listed)` : ''}. Nothing was imported: correct the rows listed and try again.`,
    asFieldErrors(shown),
  );
}

/** Credentials kept for a one-time download are encrypted (AES-256-GCM) under a key derived from WEFT_SECRET. */
function seal(secret: string, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(secret), iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

function unseal(secret: string, sealed: string): string {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', sealKey(secret), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

function sealKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('weft estate import credentials').digest();
}

interface CheckedFeature {
  name: string;
  code: string | null;
  kind: AreaKind;
  geometry: AreaGeometry;
}

/** Checks a FeatureCollection of named Polygon or MultiPolygon features; throws AREA_IMPORT_INVALID naming each bad feature. */
function checkFeatureCollection(geojson: unknown, options: AreaImportOptions): CheckedFeature[] {
  const fc = geojson as { type?: unknown; features?: unknown };
  if (!fc || typeof fc !== 'object' || fc.type !== 'FeatureCollection' || !Array.isArray(fc.features) || !fc.features.length) throw estateErrors.AREA_IMPORT_INVALID();
  const nameProp = options.nameProperty ?? 'name';
  const codeProp = options.codeProperty ?? 'code';
  const errors: FieldError[] = [];
  const out: CheckedFeature[] = [];
  fc.features.forEach((feature: any, i: number) => {
    const props = (feature?.properties ?? {}) as Record<string, unknown>;
    const name = typeof props[nameProp] === 'string' ? (props[nameProp] as string).trim() : '';
    const problem = geometryProblem(feature?.geometry);
    const kind: AreaKind = (options.kind as AreaKind | undefined) ?? (AREA_KINDS.includes(props.kind as AreaKind) ? (props.kind as AreaKind) : 'ward');
    if (!name) errors.push({ field: `features/${i}/properties/${nameProp}`, message: `Feature ${i + 1} has no ${nameProp} property` });
    else if (problem) errors.push({ field: `features/${i}/geometry`, message: `Feature ${i + 1} (${name}) ${problem}` });
    else out.push({ name: name.slice(0, 200), code: props[codeProp] != null && props[codeProp] !== '' ? String(props[codeProp]).slice(0, 50) : null, kind, geometry: feature.geometry });
  });
  if (errors.length) throw estateErrors.AREA_IMPORT_INVALID(undefined, errors.slice(0, MAX_REPORTED_ERRORS));
  return out;
}
