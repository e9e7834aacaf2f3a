; NSIS 3 script of the dsj-desktop Windows installer (Simplified Chinese wizard).
;
;   makensis /INPUTCHARSET UTF8 /DVERSION=0.1.0 /DBUNDLE=<dist\dsj-desktop> /DOUTFILE=<setup.exe> dsj-desktop.nsi
;
; installer\build-windows.ps1 runs this after the PyInstaller build.  BUNDLE is the one-folder bundle
; (dsj-desktop.exe windowed, dsj-desktop-cli.exe console, _internal\).
;
; - Install for the current user only (no administrator rights; %LOCALAPPDATA%\Programs\dsj-desktop)
;   or, when started by an administrator, for all users (Program Files).  Silent: /S with /CurrentUser
;   or /AllUsers.
; - Start-menu folder and (optional, preselected) desktop shortcut, with the program's icon.
; - The uninstaller removes the program files and shortcuts only.  The user's data folder
;   (%LOCALAPPDATA%\dsj-desktop: database, backups) is never touched.

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "pass /DVERSION=x.y.z"
!endif
!ifndef BUNDLE
  !error "pass /DBUNDLE=path\to\dist\dsj-desktop"
!endif
!ifndef OUTFILE
  !define OUTFILE "dsj-desktop-${VERSION}-setup.exe"
!endif
!ifndef ICON
  !define ICON "${__FILEDIR__}\..\..\resources\icons\dsj-desktop.ico"
!endif

!define APP_ID "dsj-desktop"
!define APP_NAME "双随机一公开抽查工作台"
!define APP_EXE "dsj-desktop.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define SETTINGS_KEY "Software\${APP_ID}"

Name "${APP_NAME}"
OutFile "${OUTFILE}"
BrandingText "${APP_NAME} ${VERSION}"

; ------------------------------------------------------------------------------------ per-user / all
!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR "${APP_ID}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "${SETTINGS_KEY}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallDir"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_KEY "${SETTINGS_KEY}"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_VALUENAME "InstallMode"
!include MultiUser.nsh
!include MUI2.nsh
!include LogicLib.nsh
!include x64.nsh
!include WinVer.nsh
!include FileFunc.nsh

; --------------------------------------------------------------------------------------------- pages
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_WELCOMEPAGE_TITLE "欢迎安装 ${APP_NAME}"
!define MUI_WELCOMEPAGE_TEXT "本向导将在这台电脑上安装 ${APP_NAME} ${VERSION}。$\r$\n$\r$\n本程序离线使用，不需要联网。数据保存在当前用户的数据文件夹（%LOCALAPPDATA%\dsj-desktop）中，卸载或升级程序都不会删除这些数据。$\r$\n$\r$\n单击“下一步”继续。"
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_TEXT "现在运行 ${APP_NAME}"
!define MUI_FINISHPAGE_RUN_FUNCTION RunAsUser
!define MUI_UNCONFIRMPAGE_TEXT_TOP "将从以下文件夹卸载 ${APP_NAME}。$\r$\n您的数据（数据库、备份，位于 %LOCALAPPDATA%\dsj-desktop）不会被删除。"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "SimpChinese"

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=${LANG_SIMPCHINESE} "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=${LANG_SIMPCHINESE} "FileDescription" "${APP_NAME} 安装程序"
VIAddVersionKey /LANG=${LANG_SIMPCHINESE} "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_SIMPCHINESE} "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_SIMPCHINESE} "LegalCopyright" ""

; ------------------------------------------------------------------------------------------ sections
Section "!${APP_NAME}（必需）" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; An upgrade replaces the program files completely (no stale libraries from the old version).
  RMDir /r "$INSTDIR\_internal"
  File /r "${BUNDLE}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${APP_NAME}"
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\${APP_EXE}" 0
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\卸载 ${APP_NAME}.lnk" "$INSTDIR\uninstall.exe" "/$MultiUser.InstallMode"

  WriteRegStr SHCTX "${SETTINGS_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr SHCTX "${SETTINGS_KEY}" "InstallMode" "$MultiUser.InstallMode"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${APP_EXE},0"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode'
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /$MultiUser.InstallMode /S'
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "桌面快捷方式" SecDesktop
  CreateShortcut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\${APP_EXE}" 0
SectionEnd

Section "-EstimatedSize"
  ; Size of what was installed, for "Apps & features".
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "Uninstall"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\卸载 ${APP_NAME}.lnk"
  RMDir "$SMPROGRAMS\${APP_NAME}"

  ; Only the files the installer put there: never RMDir /r "$INSTDIR" (the user may have chosen a
  ; folder that holds other things).  The data folder %LOCALAPPDATA%\dsj-desktop is not touched.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\dsj-desktop.exe"
  Delete "$INSTDIR\dsj-desktop-cli.exe"
  Delete "$INSTDIR\BUILDINFO.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  DeleteRegKey SHCTX "${UNINSTALL_KEY}"
  DeleteRegKey SHCTX "${SETTINGS_KEY}"
SectionEnd

; ----------------------------------------------------------------------------------------- functions
Function .onInit
  ${IfNot} ${AtLeastWin10}
    MessageBox MB_OK|MB_ICONSTOP "${APP_NAME} 需要 Windows 10 或更高版本（Qt 6 不支持更早的 Windows）。"
    Abort
  ${EndIf}
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "${APP_NAME} 需要 64 位 Windows。"
    Abort
  ${EndIf}
  !insertmacro MULTIUSER_INIT
FunctionEnd

Function un.onInit
  !insertmacro MULTIUSER_UNINIT
FunctionEnd

; Start the program as the desktop user, not with the installer's (possibly elevated) rights.
Function RunAsUser
  Exec '"$WINDIR\explorer.exe" "$INSTDIR\${APP_EXE}"'
FunctionEnd
