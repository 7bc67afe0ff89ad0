@echo off
rem The CRM orchestrator (docs\orchestration.md): Dagster web UI + daemon on http://127.0.0.1:3000,
rem a build when a file lands in CRM_RAW_DIR, the monthly schedule. Start it at boot with the Task
rem Scheduler (docs\orchestration.md, "Windows") or a service wrapper; it replaces the crm-refresh task.
rem Set CRM_RAW_DIR below (or as a system environment variable); the checkout is two folders up.
setlocal
cd /d "%~dp0..\.."
if not defined CRM_RAW_DIR set "CRM_RAW_DIR=D:\crm\landing"
py -3.11 scripts\tasks.py orchestrate
exit /b %ERRORLEVEL%
