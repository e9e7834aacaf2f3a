; NSIS 3 script of the dsj-desktop Windows installer (Simplified Chinese wizard).
;
; installer/windows/build-on-linux.sh stages the program and runs
;   makensis -INPUTCHARSET UTF8 -DVERSION=0.1.0 -DSTAGE=<stage> -DFILELIST=<stage.nsh> -DOUTFILE=<setup.exe> dsj-desktop.nsi
; STAGE is the program folder (dsj-desktop.exe console launcher, dsj-desktop-gui.exe windowed launcher,
; dsj-desktop.ico, BUILDINFO.txt, python\ = embeddable CPython + site-packages); FILELIST holds one
; File command per file of STAGE, sorted (so two builds pack the files in the same order).
;
; - Installs for the current user only, without administrator rights (office staff rarely have them):
;   %LOCALAPPDATA%\Programs\dsj-desktop, registry under HKCU.  Silent: /S (optionally /D=<folder>, last).
; - Start-menu shortcuts and a desktop shortcut (an optional, preselected component), with the icon.
; - The uninstaller removes the program files, shortcuts and registry keys only.  The user's data
;   folder (%LOCALAPPDATA%\dsj-desktop: database, keys, backups) is never touched.

Unicode true
; A 64-bit installer (Qt 6 needs 64-bit Windows 10+ anyway; Wine without its 32-bit part can run it).
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user
!ifdef FAST_COMPRESSION
  SetCompressor zlib  ; development builds only (build-on-linux.sh with DSJ_FAST_NSIS=1)
!else
  SetCompressor /SOLID lzma
  SetCompressorDictSize 64
!endif

!ifndef VERSION
  !error "pass -DVERSION=x.y.z"
!endif
!ifndef STAGE
  !error "pass -DSTAGE=path/to/stage"
!endif
!ifndef FILELIST
  !error "pass -DFILELIST=path/to/stage.nsh"
!endif
!ifndef OUTFILE
  !define OUTFILE "dsj-desktop-${VERSION}-setup.exe"
!endif

!define APP_ID "dsj-desktop"
!define APP_NAME "双随机一公开抽查工作台"
!define APP_EXE "dsj-desktop-gui.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define SETTINGS_KEY "Software\${APP_ID}"

Name "${APP_NAME}"
OutFile "${OUTFILE}"
BrandingText "${APP_NAME} ${VERSION}"
InstallDir "$LOCALAPPDATA\Programs\${APP_ID}"
InstallDirRegKey HKCU "${SETTINGS_KEY}" "InstallDir"

!include MUI2.nsh
!include LogicLib.nsh
!include x64.nsh
!include WinVer.nsh
!include FileFunc.nsh

; --------------------------------------------------------------------------------------------- pages
!define MUI_ICON "${STAGE}\dsj-desktop.ico"
!define MUI_UNICON "${STAGE}\dsj-desktop.ico"
!define MUI_ABORTWARNING
!define MUI_WELCOMEPAGE_TITLE "欢迎安装 ${APP_NAME}"
!define MUI_WELCOMEPAGE_TEXT "本向导将在这台电脑上为当前用户安装 ${APP_NAME} ${VERSION}，不需要管理员权限。$\r$\n$\r$\n本程序离线使用，不需要联网。数据保存在当前用户的数据文件夹（%LOCALAPPDATA%\dsj-desktop）中，卸载或升级程序都不会删除这些数据。$\r$\n$\r$\n单击“下一步”继续。"
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\${APP_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "现在运行 ${APP_NAME}"
!define MUI_UNCONFIRMPAGE_TEXT_TOP "将从以下文件夹卸载 ${APP_NAME}。$\r$\n您的数据（数据库、密钥、备份，位于 %LOCALAPPDATA%\dsj-desktop）不会被删除。"

!insertmacro MUI_PAGE_WELCOME
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
  ; An upgrade replaces the program files completely (no stale modules from the old version).
  RMDir /r "$INSTDIR\python"
  !include "${FILELIST}"
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${APP_NAME}"
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\dsj-desktop.ico" 0
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\卸载 ${APP_NAME}.lnk" "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${SETTINGS_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\dsj-desktop.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "桌面快捷方式" SecDesktop
  CreateShortcut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\dsj-desktop.ico" 0
SectionEnd

Section "-EstimatedSize"
  ; Size of what was installed, for "Apps & features".
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "Uninstall"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\卸载 ${APP_NAME}.lnk"
  RMDir "$SMPROGRAMS\${APP_NAME}"

  ; Only what the installer put there: never RMDir /r "$INSTDIR" (the user may have chosen a folder
  ; that holds other things).  The data folder %LOCALAPPDATA%\dsj-desktop is not touched.
  RMDir /r "$INSTDIR\python"
  Delete "$INSTDIR\dsj-desktop.exe"
  Delete "$INSTDIR\dsj-desktop-gui.exe"
  Delete "$INSTDIR\dsj-desktop.ico"
  Delete "$INSTDIR\BUILDINFO.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "${SETTINGS_KEY}"
SectionEnd

; ----------------------------------------------------------------------------------------- functions
Function .onInit
  ${IfNot} ${AtLeastWin10}
    MessageBox MB_OK|MB_ICONSTOP "${APP_NAME} 需要 Windows 10 或更高版本（Qt 6 不支持更早的 Windows）。" /SD IDOK
    Abort
  ${EndIf}
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "${APP_NAME} 需要 64 位 Windows。" /SD IDOK
    Abort
  ${EndIf}
FunctionEnd
