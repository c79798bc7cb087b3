import type { Knex } from 'knex';

/**
 * Each group's inbox becomes its own index range (issue 20, docs/performance.md
 * "Inbox per agency").
 *
 * The inbox keyset (20261207010000_inbox_keyset) walks every open task in due
 * order and checks the caller's groups on each row, so an agency whose tasks
 * are few near the front of the due order walks the other agencies' rows
 * (6 640 removed by the filter for one first page at 100 000 cases). A GIN
 * index on candidate_groups finds an agency's rows but not in due order.
 *
 * task_groups holds one row per (candidate group, task), keyed by
 * (group, due key, task id): a group's inbox in due order, and its keyset and
 * overdue ranges, are one range of its primary key. Triggers on tasks keep it
 * (a task row is written by the command in the same transaction, so the
 * projection commits or rolls back with it). It has no foreign key and no
 * index on task_id: the triggers delete a task's rows by their full key from
 * the old row's groups and due date, so the primary key is the only index to
 * write, and a task's delete (a completion, a cascade from cases) costs one
 * index probe per group.
 *
 * tasks_assignee_inbox_idx serves the other half of an inbox, the tasks
 * assigned to the caller, in the same order (claimed tasks only).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table task_groups (
      grp text not null,
      due_key timestamptz not null,
      task_id uuid not null,
      primary key (grp, due_key, task_id)
    )`);
  await knex.raw(`comment on table task_groups is 'Inbox per group: one row per candidate group of an open task, kept by triggers on tasks; a group''s inbox in due order is a range of the primary key'`);
  await knex.raw(`comment on column task_groups.grp is 'a candidate group of the task (tasks.candidate_groups element: an agency code or a role)'`);
  await knex.raw(`comment on column task_groups.due_key is 'the inbox sort key: coalesce(tasks.due_at, infinity), so tasks without a due date come last'`);
  await knex.raw(`comment on column task_groups.task_id is 'tasks.id (no foreign key: the triggers on tasks write and delete these rows)'`);

  await knex.raw(`
    create or replace function pakn_task_groups_sync() returns trigger language plpgsql as $$
    begin
      if tg_op in ('UPDATE', 'DELETE') then
        delete from task_groups
         where grp = any (old.candidate_groups)
           and due_key = coalesce(old.due_at, 'infinity'::timestamptz)
           and task_id = old.id;
      end if;
      if tg_op in ('INSERT', 'UPDATE') then
        insert into task_groups (grp, due_key, task_id)
          select distinct g, coalesce(new.due_at, 'infinity'::timestamptz), new.id
            from unnest(new.candidate_groups) as g
           where g is not null;
      end if;
      return null;
    end $$`);
  await knex.raw(`comment on function pakn_task_groups_sync() is 'Keeps task_groups equal to the candidate groups and due dates of the tasks rows'`);
  await knex.raw(`
    create or replace function pakn_task_groups_truncate() returns trigger language plpgsql as $$
    begin
      truncate task_groups;
      return null;
    end $$`);
  await knex.raw(`comment on function pakn_task_groups_truncate() is 'A truncate of tasks empties task_groups too'`);
  await knex.raw(`create trigger tasks_groups_insert after insert on tasks for each row execute function pakn_task_groups_sync()`);
  // Only the columns the projection holds: a claim (assignee) or a renamed element does not touch task_groups.
  await knex.raw(`
    create trigger tasks_groups_update after update of candidate_groups, due_at, id on tasks for each row
      when (old.candidate_groups is distinct from new.candidate_groups or old.due_at is distinct from new.due_at or old.id is distinct from new.id)
      execute function pakn_task_groups_sync()`);
  await knex.raw(`create trigger tasks_groups_delete after delete on tasks for each row execute function pakn_task_groups_sync()`);
  await knex.raw(`create trigger tasks_groups_truncate after truncate on tasks for each statement execute function pakn_task_groups_truncate()`);

  // Backfill: the open tasks there are now.
  await knex.raw(`
    insert into task_groups (grp, due_key, task_id)
      select distinct g, coalesce(t.due_at, 'infinity'::timestamptz), t.id
        from tasks t cross join lateral unnest(t.candidate_groups) as g
       where g is not null`);

  await knex.raw(`create index if not exists tasks_assignee_inbox_idx on tasks (assignee, (coalesce(due_at, 'infinity'::timestamptz)), id) where assignee is not null`);
  await knex.raw(`comment on index tasks_assignee_inbox_idx is 'Inbox of the tasks assigned to the caller, in inbox order (due date, none last; id)'`);
  await knex.raw('analyze task_groups');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists tasks_assignee_inbox_idx');
  await knex.raw('drop trigger if exists tasks_groups_truncate on tasks');
  await knex.raw('drop trigger if exists tasks_groups_delete on tasks');
  await knex.raw('drop trigger if exists tasks_groups_update on tasks');
  await knex.raw('drop trigger if exists tasks_groups_insert on tasks');
  await knex.raw('drop function if exists pakn_task_groups_truncate()');
  await knex.raw('drop function if exists pakn_task_groups_sync()');
  await knex.raw('drop table if exists task_groups');
}
