@echo off
rem Monthly CRM warehouse refresh, run by the Windows Task Scheduler (deploy\windows\crm-refresh.xml).
rem Set CRM_RAW_DIR below (or as a system environment variable); the checkout is two folders up.
rem Exit code: 0 published, 1 build or data test failed, 2 stale raw data, 3 warehouse locked,
rem 4 built but crm_serving.duckdb is open in Power BI (the new marts wait in crm_serving.pending.duckdb).
rem Full log of every run: warehouse\logs\refresh-<time>.log
setlocal
cd /d "%~dp0..\.."
if not defined CRM_RAW_DIR set "CRM_RAW_DIR=D:\crm\landing"
py -3.11 scripts\tasks.py refresh
exit /b %ERRORLEVEL%
